// RFC 2047 encoded-words ("=?UTF-8?B?...?=") for non-ASCII header text. Each word stays within the
// 75-character limit of §2 and holds whole characters only (§5: a multi-octet character must not
// be split across adjacent encoded-words).

const MAX_WORD_BYTES = 45; // 45 octets -> 60 base64 chars -> 72-char word
const encoder = new TextEncoder();

/** The encoded-words for `text`, in order; join them with folding whitespace. */
export function encodeWords(text: string): string[] {
  const words: string[] = [];
  let chunk: number[] = [];
  for (const char of text) {
    const bytes = encoder.encode(char);
    if (chunk.length + bytes.length > MAX_WORD_BYTES) {
      words.push(toWord(chunk));
      chunk = [];
    }
    chunk.push(...bytes);
  }
  if (chunk.length > 0) words.push(toWord(chunk));
  return words;
}

function toWord(bytes: number[]): string {
  return `=?UTF-8?B?${btoa(String.fromCharCode(...bytes))}?=`;
}
