import { describe, expect, it } from "vitest";
import type { LookupTable } from "./lookup-table.ts";
import { openTable } from "./open-table.ts";

describe("openTable", () => {
  const opened: string[] = [];
  const backends = {
    d1: (name: string): LookupTable => {
      opened.push(name);
      return { lookup: async (key) => `${name}/${key}` };
    },
  };

  const cases = [
    { name: "inline", input: { spec: "inline:{ a=1 }", key: "a" }, want: "1" },
    { name: "static", input: { spec: "static:{ two words }", key: "zz" }, want: "two words" },
    {
      name: "store-backed type from the caller",
      input: { spec: "d1:sender_login", key: "k" },
      want: "sender_login/k",
    },
  ];
  for (const { name, input, want } of cases) {
    it(name, async () => expect(await openTable(input.spec, backends).lookup(input.key)).toBe(want));
  }

  it("passes the name after the first colon to the backend", () => {
    openTable("d1:a:b", backends);
    expect(opened).toContain("a:b");
  });

  const errors = [
    {
      name: "unknown type",
      input: "hash:/etc/postfix/access",
      want: { code: "ERR_MAP_TYPE" },
      message: /unsupported dictionary type: hash/,
    },
    {
      name: "backends do not include the built-ins' names case-insensitively",
      input: "INLINE:{a=b}",
      want: { code: "ERR_MAP_TYPE" },
      message: /INLINE/,
    },
    { name: "no colon", input: "sender_login", want: { code: "ERR_CONFIG" }, message: /need "type:name"/ },
    { name: "empty type", input: ":x", want: { code: "ERR_CONFIG" }, message: /need "type:name"/ },
    {
      name: "prototype keys are not types",
      input: "constructor:x",
      want: { code: "ERR_MAP_TYPE" },
      message: /constructor/,
    },
  ];
  for (const { name, input, want, message } of errors) {
    it(`rejects: ${name}`, () => {
      expect(() => openTable(input, backends)).toThrow(expect.objectContaining(want));
      expect(() => openTable(input, backends)).toThrow(message);
    });
  }

  it("lists the known types in the error", () => {
    expect(() => openTable("ldap:x", backends)).toThrow(/known: inline, static, d1/);
  });
});
