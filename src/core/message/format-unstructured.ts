// Unstructured field bodies (Subject, X-* values): printable ASCII is folded as is; anything
// else (non-ASCII, text that would read as an encoded-word, a word too long to fold) becomes
// RFC 2047 encoded-words, one per folded line.

import { encodeWords } from "./encoded-word.ts";
import { fitsLineLimit, foldTokens, foldUnstructured } from "./header-fold.ts";

const PLAIN = /^[\t\x20-\x7e]*$/;

/** The folded body for `name: ` + value. */
export function formatUnstructured(name: string, value: string): string {
  const start = name.length + 2;
  // "=?" could be decoded by readers as an encoded-word: encode so the text arrives literally.
  if (PLAIN.test(value) && !value.includes("=?")) {
    const folded = foldUnstructured(start, value);
    if (fitsLineLimit(start, folded)) return folded;
  }
  return foldTokens(start, encodeWords(value));
}
