import { describe, expect, it } from "vitest";
import { parseDigestDirectives, quoteDigestValue } from "./digest-directives.ts";

describe("parseDigestDirectives", () => {
  const cases: { name: string; input: string; want: object }[] = [
    {
      name: "token and quoted values",
      input: 'a=1,b="two"',
      want: {
        ok: true,
        value: [
          ["a", "1"],
          ["b", "two"],
        ],
      },
    },
    { name: "names lowercased", input: "Charset=utf-8", want: { ok: true, value: [["charset", "utf-8"]] } },
    {
      name: "whitespace around everything",
      input: ' a = 1 ,\r\n\tb = "x y" ',
      want: {
        ok: true,
        value: [
          ["a", "1"],
          ["b", "x y"],
        ],
      },
    },
    {
      name: "empty elements",
      input: ",,a=1,,,b=2,",
      want: {
        ok: true,
        value: [
          ["a", "1"],
          ["b", "2"],
        ],
      },
    },
    { name: "quoted-pair", input: 'a="x\\"y\\\\z\\q"', want: { ok: true, value: [["a", 'x"y\\zq']] } },
    {
      name: "comma inside quotes",
      input: 'qop="auth,auth-int"',
      want: { ok: true, value: [["qop", "auth,auth-int"]] },
    },
    { name: "empty quoted value", input: 'authzid=""', want: { ok: true, value: [["authzid", ""]] } },
    {
      name: "8-bit octets in quotes",
      input: 'u="\u00c3\u00a9"',
      want: { ok: true, value: [["u", "\u00c3\u00a9"]] },
    },
    { name: "empty input", input: "", want: { ok: true, value: [] } },
    { name: "unbalanced quote", input: 'a="x', want: { ok: false } },
    { name: "escape at the end", input: 'a="x\\', want: { ok: false } },
    { name: "missing =", input: "a", want: { ok: false } },
    { name: "missing value", input: "a=,b=1", want: { ok: false } },
    { name: "no comma between directives", input: "a=1 b=2", want: { ok: false } },
    { name: "junk after quoted value", input: 'a="x"y', want: { ok: false } },
    { name: "NUL in quotes", input: 'a="x\0"', want: { ok: false } },
    { name: "escaped NUL", input: 'a="\\\0"', want: { ok: false } },
    { name: "separator in token value", input: "digest-uri=smtp/host", want: { ok: false } },
    { name: "8-bit octet in a token", input: "a=\u00e9", want: { ok: false } },
    { name: "no name", input: "=1", want: { ok: false } },
  ];
  for (const { name, input, want } of cases) {
    it(name, () => expect(parseDigestDirectives(input)).toMatchObject(want));
  }

  it("keeps duplicates for the caller to judge", () => {
    expect(parseDigestDirectives('realm="a",realm="b"')).toEqual({
      ok: true,
      value: [
        ["realm", "a"],
        ["realm", "b"],
      ],
    });
  });

  it("round-trips quoteDigestValue", () => {
    for (const value of ["plain", 'with "quotes"', "back\\slash", ""]) {
      expect(parseDigestDirectives(`x=${quoteDigestValue(value)}`)).toEqual({
        ok: true,
        value: [["x", value]],
      });
    }
  });
});
