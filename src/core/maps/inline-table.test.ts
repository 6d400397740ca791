import { describe, expect, it } from "vitest";
import { inlineTable } from "./inline-table.ts";

describe("inlineTable", () => {
  const table = inlineTable(
    "{ alice@example.com=alice, { bob@example.com = bob, robert }, {Key = value with  spaces , and commas }, empty= }",
  );
  const cases = [
    { name: "plain entry", input: "alice@example.com", want: "alice" },
    { name: "braced entry keeps commas", input: "bob@example.com", want: "bob, robert" },
    { name: "value keeps inner blanks, trims outer", input: "key", want: "value with  spaces , and commas" },
    { name: "keys are case-folded", input: "ALICE@Example.COM", want: "alice" },
    {
      name: "key written in capitals is found in lowercase",
      input: "KEY",
      want: "value with  spaces , and commas",
    },
    { name: "empty value is a value", input: "empty", want: "" },
    { name: "missing key", input: "carol@example.com", want: null },
    { name: "no partial match", input: "alice", want: null },
  ];
  for (const { name, input, want } of cases) {
    it(name, async () => expect(await table.lookup(input)).toBe(want));
  }

  const errors = [
    { name: "no braces", input: "a=b", want: /need "inline:\{name=value...\}"/ },
    { name: "empty table", input: "{ }", want: /empty table/ },
    { name: "missing =", input: "{ a=b, c }", want: /missing '=' after "c"/ },
    { name: "missing name", input: "{ =b }", want: /bad name ""/ },
    { name: "blank inside a name", input: "{ { a b = c } }", want: /bad name "a b"/ },
    { name: "unbalanced", input: "{ { a=b }", want: /need "inline/ },
    { name: "trailing text after a group", input: "{ {a=b}c }", want: /syntax error in "\{a=b\}c"/ },
    { name: "duplicate key, case-insensitively", input: "{ a=1, A=2 }", want: /duplicate entry "A"/ },
  ];
  for (const { name, input, want } of errors) {
    it(`rejects: ${name}`, () => {
      expect(() => inlineTable(input)).toThrow(want);
      expect(() => inlineTable(input)).toThrow(expect.objectContaining({ code: "ERR_CONFIG" }));
    });
  }
});
