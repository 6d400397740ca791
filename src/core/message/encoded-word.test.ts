import { describe, expect, it } from "vitest";
import { encodeWords } from "./encoded-word.ts";

const decodeWord = (word: string) =>
  new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(
    Uint8Array.from(atob(/^=\?UTF-8\?B\?(.*)\?=$/.exec(word)![1]!), (c) => c.charCodeAt(0)),
  );

describe("encodeWords", () => {
  const texts = [
    "é",
    "🚀".repeat(40),
    `${"a".repeat(44)}🚀`,
    "mixed ASCII und Ümläute ".repeat(10),
    "日本語のテキスト".repeat(8),
  ];
  for (const text of texts) {
    it(`encodes ${JSON.stringify(text.slice(0, 12))} in whole characters, <= 75 chars a word`, () => {
      const words = encodeWords(text);
      for (const word of words) expect(word.length).toBeLessThanOrEqual(75);
      expect(words.map(decodeWord).join("")).toBe(text); // each word decodes alone: nothing split
    });
  }
  it("gives no words for empty text", () => expect(encodeWords("")).toEqual([]));
});
