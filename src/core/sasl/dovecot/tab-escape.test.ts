import { describe, expect, it } from "vitest";
import { splitTabEscaped, tabEscape, tabUnescape } from "./tab-escape.ts";

describe("tabEscape / tabUnescape (Dovecot lib/strescape.c)", () => {
  const cases = [
    { name: "plain text is unchanged", input: "alice@example.com", escaped: "alice@example.com" },
    { name: "TAB", input: "a\tb", escaped: "a\x01tb" },
    { name: "LF and CR", input: "a\r\nb", escaped: "a\x01r\x01nb" },
    { name: "the escape character itself", input: "a\x01b", escaped: "a\x011b" },
    { name: "NUL", input: "a\x00b", escaped: "a\x010b" },
    { name: "backslash is not special", input: "a\\tb", escaped: "a\\tb" },
  ];
  for (const { name, input, escaped } of cases) {
    it(name, () => {
      expect(tabEscape(input)).toBe(escaped);
      expect(tabUnescape(escaped)).toBe(input);
    });
  }

  it("an unknown escape stands for the character; a trailing lone \\001 is dropped", () => {
    expect(tabUnescape("a\x01xb")).toBe("axb");
    expect(tabUnescape("ab\x01")).toBe("ab");
  });

  it("splits a line into unescaped fields", () => {
    expect(splitTabEscaped("OK\t1\tuser=a\x01tb\treason=x\x01ny")).toEqual([
      "OK",
      "1",
      "user=a\tb",
      "reason=x\ny",
    ]);
  });
});
