import { describe, expect, it } from "vitest";
import { decodeXtext, encodeXtext } from "./xtext.ts";

describe("decodeXtext", () => {
  const cases = [
    { name: "plain printable ASCII", input: "alice@example.com", want: "alice@example.com" },
    { name: "an encoded plus", input: "a+2Bb@example.com", want: "a+b@example.com" },
    { name: "an encoded equals sign", input: "x+3Dy", want: "x=y" },
    { name: "an encoded space", input: "a+20b", want: "a b" },
    { name: "UTF-8 octets", input: "caf+C3+A9", want: "café" },
    { name: "empty", input: "", want: "" },
    { name: "a bare plus is not xtext", input: "a+b", want: null },
    { name: "lower-case hex is not xtext", input: "a+2bb", want: null },
    { name: "a truncated hexchar", input: "ab+2", want: null },
    { name: "a raw equals sign", input: "a=b", want: null },
    { name: "a raw space", input: "a b", want: null },
    { name: "a control character", input: "a\x01b", want: null },
    { name: "octets that are not UTF-8", input: "+C3+28", want: null },
  ];
  for (const { name, input, want } of cases) {
    it(name, () => expect(decodeXtext(input)).toBe(want));
  }
});

describe("encodeXtext", () => {
  it("encodes what xtext cannot carry and round-trips", () => {
    for (const value of ["a+b=c d", "café", "plain@example.com", "\x00\x7f~!"]) {
      const encoded = encodeXtext(value);
      expect(encoded).toMatch(/^[\x21-\x7e]*$/);
      expect(decodeXtext(encoded)).toBe(value);
    }
    expect(encodeXtext("a+b=c d")).toBe("a+2Bb+3Dc+20d");
  });
});
