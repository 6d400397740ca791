import { describe, expect, it } from "vitest";
import { splitBraced, unbrace } from "./split-braced.ts";

describe("splitBraced", () => {
  const cases = [
    { name: "commas", input: "a,b,c", want: ["a", "b", "c"] },
    { name: "whitespace and commas mixed", input: " a ,\tb\n  c,,d ", want: ["a", "b", "c", "d"] },
    { name: "empty", input: "  , ", want: [] },
    {
      name: "braces keep separators",
      input: "inline:{ a=b, { c = d e } } static:x",
      want: ["inline:{ a=b, { c = d e } }", "static:x"],
    },
    {
      name: "brace inside an item",
      input: "check_sasl_access inline:{x=OK},permit",
      want: ["check_sasl_access", "inline:{x=OK}", "permit"],
    },
  ];
  for (const { name, input, want } of cases) {
    it(name, () => expect(splitBraced(input)).toEqual(want));
  }

  const errors = [
    { name: "missing close", input: "inline:{ a=b", want: /missing "}"/ },
    { name: "stray close", input: "a } b", want: /unbalanced "}"/ },
  ];
  for (const { name, input, want } of errors) {
    it(`rejects: ${name}`, () => {
      expect(() => splitBraced(input)).toThrow(want);
      expect(() => splitBraced(input)).toThrow(expect.objectContaining({ code: "ERR_CONFIG" }));
    });
  }
});

describe("unbrace", () => {
  const cases = [
    { name: "one group, trimmed", input: "{  a b  }", want: "a b" },
    { name: "nested", input: "{ {a} {b} }", want: "{a} {b}" },
    { name: "two groups", input: "{a}{b}", want: null },
    { name: "trailing text", input: "{a}b", want: null },
    { name: "no braces", input: "a", want: null },
    { name: "unbalanced", input: "{{a}", want: null },
  ];
  for (const { name, input, want } of cases) {
    it(name, () => expect(unbrace(input)).toBe(want));
  }
});
