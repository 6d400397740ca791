import { describe, expect, it } from "vitest";
import { fitsLineLimit, foldTokens, foldUnstructured } from "./header-fold.ts";

const unfold = (folded: string) => folded.replace(/\r\n(?=[ \t])/g, "");

describe("foldUnstructured", () => {
  const values = [
    "",
    "short",
    "  leading and trailing  ",
    "\ttabs\tbetween\twords\t",
    Array.from({ length: 40 }, (_, i) => `w${i}`).join(" "),
    Array.from({ length: 40 }, (_, i) => `w${i}`).join("   "),
    `${"x".repeat(100)} ${"y".repeat(100)}`,
    "   ",
  ];
  for (const value of values) {
    it(`unfolds back to ${JSON.stringify(value.slice(0, 30))}`, () => {
      const folded = foldUnstructured("Subject: ".length, value);
      expect(unfold(folded)).toBe(value);
      // a fold never leaves a line of whitespace only (RFC 5322 §3.2.2)
      for (const line of folded.split("\r\n").slice(1)) expect(line.trim()).not.toBe("");
    });
  }

  it("folds before the word that would pass column 78", () => {
    const folded = foldUnstructured(9, Array.from({ length: 30 }, () => "abcd").join(" "));
    const lines = folded.split("\r\n");
    expect(lines.length).toBeGreaterThan(1);
    expect(9 + lines[0]!.length).toBeLessThanOrEqual(78);
    for (const line of lines.slice(1)) expect(line.length).toBeLessThanOrEqual(78);
  });
});

describe("foldTokens / fitsLineLimit", () => {
  it("joins with single spaces and folds between tokens", () => {
    expect(foldTokens(4, ["a", "b"])).toBe("a b");
    const folded = foldTokens(4, Array(30).fill("token"));
    expect(unfold(folded)).toBe(Array(30).fill("token").join(" "));
    for (const line of folded.split("\r\n")) expect(line.length).toBeLessThanOrEqual(78);
  });

  it("measures octets and counts the field name on the first line", () => {
    expect(fitsLineLimit(0, "a".repeat(998))).toBe(true);
    expect(fitsLineLimit(1, "a".repeat(998))).toBe(false);
    expect(fitsLineLimit(0, "\u00e9".repeat(500))).toBe(false);
    expect(fitsLineLimit(900, `a\r\n ${"b".repeat(997)}`)).toBe(true);
  });
});
