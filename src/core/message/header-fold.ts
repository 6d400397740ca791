// RFC 5322 §2.1.1 and §2.2.3: header lines SHOULD stay within 78 characters and MUST stay within
// 998 octets; long fields are folded by putting CRLF before existing whitespace, so unfolding
// (deleting the CRLFs) gives back the original value.

export const SOFT_LINE_LIMIT = 78;
export const LINE_LIMIT = 998;

const encoder = new TextEncoder();

/**
 * Joins tokens with one space each, folding before a token that would pass 78 columns. `start` is
 * the column after "Name: ". Tokens are never split, so a single long token makes a long line.
 */
export function foldTokens(start: number, tokens: readonly string[]): string {
  let out = "";
  let column = start;
  tokens.forEach((token, index) => {
    if (index === 0) {
      out = token;
      column += token.length;
    } else if (column + 1 + token.length > SOFT_LINE_LIMIT) {
      out += `\r\n ${token}`;
      column = 1 + token.length;
    } else {
      out += ` ${token}`;
      column += 1 + token.length;
    }
  });
  return out;
}

/** Folds free text at its own whitespace, keeping every character (unfolding restores `value`). */
export function foldUnstructured(start: number, value: string): string {
  const words = value.match(/[ \t]*[^ \t]+/g) ?? [];
  const trailing = /[ \t]*$/.exec(value)![0];
  if (words.length === 0) return value;
  let out = "";
  let column = start;
  words.forEach((word, index) => {
    // every word after the first begins with whitespace, where a fold may go
    if (index > 0 && column + word.length > SOFT_LINE_LIMIT) {
      out += `\r\n${word}`;
      column = word.length;
    } else {
      out += word;
      column += word.length;
    }
  });
  return out + trailing;
}

/** True when no line of a (folded) field body, the first starting at column `start`, passes 998 octets. */
export function fitsLineLimit(start: number, folded: string): boolean {
  return folded
    .split("\r\n")
    .every((line, index) => (index === 0 ? start : 0) + encoder.encode(line).length <= LINE_LIMIT);
}
