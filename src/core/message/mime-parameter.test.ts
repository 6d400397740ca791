import { describe, expect, it } from "vitest";
import { formatParameter } from "./mime-parameter.ts";

describe("formatParameter", () => {
  const cases = [
    { name: "ASCII", value: "report.pdf", want: ['filename="report.pdf"'] },
    { name: "quotes escaped", value: 'a"b\\c', want: ['filename="a\\"b\\\\c"'] },
    { name: "non-ASCII: RFC 2231", value: "März.pdf", want: ["filename*=UTF-8''M%C3%A4rz.pdf"] },
    {
      name: "space and specials are percent-encoded",
      value: "ä b;c",
      want: ["filename*=UTF-8''%C3%A4%20b%3Bc"],
    },
  ];
  for (const { name, value, want } of cases) {
    it(name, () => expect(formatParameter("filename", value)).toEqual(want));
  }

  it("continues long values without splitting a %XX escape", () => {
    const value = "ü".repeat(50);
    const pieces = formatParameter("filename", value);
    expect(pieces.length).toBeGreaterThan(1);
    pieces.forEach((piece, index) => {
      expect(piece.startsWith(`filename*${index}*=`)).toBe(true);
      expect(piece).not.toMatch(/%[0-9A-F]?$/);
    });
    const joined = pieces.map((piece) => piece.replace(/^filename\*\d+\*=(UTF-8'')?/, "")).join("");
    expect(decodeURIComponent(joined)).toBe(value);
  });
});
