import { describe, expect, it } from "vitest";
import { findUnsafeCharacter } from "./unsafe-character.ts";

describe("findUnsafeCharacter", () => {
  const cases = [
    { value: "plain text ünïcode 🚀", allowTab: false, want: null },
    { value: "a\tb", allowTab: true, want: null },
    { value: "a\tb", allowTab: false, want: "contains a control character (U+0009)" },
    { value: "a\nb", allowTab: true, want: "contains a line break (U+000A)" },
    { value: "a\rb", allowTab: true, want: "contains a line break (U+000D)" },
    { value: "\u0000", allowTab: true, want: "contains a control character (U+0000)" },
    { value: "\u001b[31m", allowTab: true, want: "contains a control character (U+001B)" },
    { value: "\u0085", allowTab: true, want: "contains a control character (U+0085)" },
    { value: "\u2028", allowTab: true, want: "contains a Unicode line separator (U+2028)" },
    { value: "\u2029", allowTab: true, want: "contains a Unicode line separator (U+2029)" },
    { value: "\udc00x", allowTab: true, want: "contains an unpaired surrogate (U+DC00)" },
  ];
  for (const { value, allowTab, want } of cases) {
    it(`${JSON.stringify(value)} (allowTab ${allowTab})`, () =>
      expect(findUnsafeCharacter(value, { allowTab })).toBe(want));
  }
});
