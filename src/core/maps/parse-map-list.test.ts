import { describe, expect, it } from "vitest";
import { parseMapList } from "./parse-map-list.ts";

describe("parseMapList", () => {
  const cases = [
    { name: "one table", input: "d1:sender_login", want: ["d1:sender_login"] },
    { name: "empty value", input: "", want: [] },
    {
      name: "several, comma and space separated, braces respected",
      input: "d1:sender_login, inline:{ { a@x = alice, bob }, b@x=carol }  static:{ any one }",
      want: ["d1:sender_login", "inline:{ { a@x = alice, bob }, b@x=carol }", "static:{ any one }"],
    },
  ];
  for (const { name, input, want } of cases) {
    it(name, () => expect(parseMapList(input)).toEqual(want));
  }

  const errors = [
    { name: "no type", input: "d1:a, sender_login", want: /"sender_login": need "type:name"/ },
    { name: "empty type", input: ":x", want: /need "type:name"/ },
    { name: "unbalanced", input: "inline:{ a=b", want: /missing "}"/ },
  ];
  for (const { name, input, want } of errors) {
    it(`rejects: ${name}`, () => expect(() => parseMapList(input)).toThrow(want));
  }
});
