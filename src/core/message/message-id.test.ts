import { describe, expect, it } from "vitest";
import { generateMessageId, isMessageId } from "./message-id.ts";

describe("Message-ID", () => {
  const cases = [
    { value: "<a@b>", want: true },
    { value: "<a.b+c@example.com>", want: true },
    { value: "<x@[127.0.0.1]>", want: true },
    { value: "a@b", want: false },
    { value: "<a@b@c>", want: false },
    { value: "<a..b@c>", want: false },
    { value: "<@b>", want: false },
    { value: "<a@b> <c@d>", want: false },
  ];
  for (const { value, want } of cases)
    it(`isMessageId(${value})`, () => expect(isMessageId(value)).toBe(want));

  it("generates valid, distinct ids for a domain", () => {
    const a = generateMessageId("mx.example.org");
    expect(isMessageId(a)).toBe(true);
    expect(a).not.toBe(generateMessageId("mx.example.org"));
  });

  it("refuses a domain that would make an invalid id", () => {
    expect(() => generateMessageId("bad domain>")).toThrow(TypeError);
  });
});
