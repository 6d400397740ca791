import { describe, expect, it } from "vitest";
import { makeReply, renderReply, type SmtpReply } from "./smtp-reply.ts";

describe("renderReply", () => {
  const cases: { name: string; input: SmtpReply; want: string }[] = [
    {
      name: "code, enhanced code, text",
      input: { code: 554, enhanced: "5.7.1", text: "<x@y>: Relay access denied" },
      want: "554 5.7.1 <x@y>: Relay access denied",
    },
    { name: "no enhanced code", input: { code: 421, enhanced: "", text: "bye" }, want: "421 bye" },
  ];
  for (const { name, input, want } of cases) {
    it(name, () => expect(renderReply(input)).toBe(want));
  }
});

describe("makeReply", () => {
  const cases: { name: string; input: [number, string, string]; want: SmtpReply }[] = [
    { name: "as given", input: [553, "5.7.1", "no"], want: { code: 553, enhanced: "5.7.1", text: "no" } },
    {
      name: "enhanced class follows the code (4xx)",
      input: [450, "5.7.1", "t"],
      want: { code: 450, enhanced: "4.7.1", text: "t" },
    },
    {
      name: "enhanced class follows the code (5xx)",
      input: [554, "4.3.2", "t"],
      want: { code: 554, enhanced: "5.3.2", text: "t" },
    },
    {
      name: "2.x.x becomes the reply's class",
      input: [550, "2.0.0", "t"],
      want: { code: 550, enhanced: "5.0.0", text: "t" },
    },
    {
      name: "a success code is a configuration error",
      input: [250, "2.0.0", "fine"],
      want: { code: 450, enhanced: "4.7.1", text: "Service unavailable" },
    },
    {
      name: "a code above 599 is a configuration error",
      input: [650, "5.7.1", "x"],
      want: { code: 450, enhanced: "4.7.1", text: "Service unavailable" },
    },
    {
      name: "a malformed enhanced code is a configuration error",
      input: [550, "5.7", "x"],
      want: { code: 450, enhanced: "4.7.1", text: "Service unavailable" },
    },
    {
      name: "control characters cannot split the reply",
      input: [554, "5.7.1", "<a\r\n250 ok>: x"],
      want: { code: 554, enhanced: "5.7.1", text: "<a??250 ok>: x" },
    },
  ];
  for (const { name, input, want } of cases) {
    it(name, () => expect(makeReply(...input)).toEqual(want));
  }

  it("bounds the text so the reply fits one SMTP line", () => {
    const reply = makeReply(554, "5.7.1", "x".repeat(2000));
    expect(renderReply(reply).length).toBeLessThanOrEqual(510);
  });
});
