import { describe, expect, it } from "vitest";
import { staticTable } from "./static-table.ts";

describe("staticTable", () => {
  const cases = [
    { name: "bare value", input: { name: "OK", key: "anything" }, want: "OK" },
    {
      name: "braced value with spaces",
      input: { name: "{ REJECT go away, now }", key: "x" },
      want: "REJECT go away, now",
    },
    { name: "empty value", input: { name: "", key: "x" }, want: "" },
  ];
  for (const { name, input, want } of cases) {
    it(name, async () => expect(await staticTable(input.name).lookup(input.key)).toBe(want));
  }

  it("rejects an unbalanced brace", () => {
    expect(() => staticTable("{ REJECT")).toThrow(expect.objectContaining({ code: "ERR_CONFIG" }));
  });
});
