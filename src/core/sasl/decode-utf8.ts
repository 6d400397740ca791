// Strict UTF-8 for what clients send: invalid sequences are refused rather than replaced with
// U+FFFD, and a leading BOM is kept (the default decoder would silently drop it from a login).
const decoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/** The text of `bytes`, or null when they are not well-formed UTF-8. */
export function decodeUtf8(bytes: Uint8Array): string | null {
  try {
    return decoder.decode(bytes);
  } catch {
    return null;
  }
}
