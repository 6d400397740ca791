// Header injection defence: strings that end up in header fields (subject, display names,
// addresses, header names and values, filenames, media types) may not carry anything a parser
// could take for a line break or that has no business in a header: C0 controls (CR, LF, NUL...),
// DEL, C1 controls (NEL U+0085 among them), the Unicode line and paragraph separators U+2028/U+2029
// (line breaks to Unicode-aware parsers and JavaScript-era tooling) and unpaired surrogates (not
// encodable as UTF-8). TAB is allowed only where RFC 5322 allows WSP in an unstructured value.

const UNSAFE =
  /[\x00-\x1f\x7f-\x9f\u2028\u2029]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const UNSAFE_EXCEPT_TAB =
  /[\x00-\x08\x0a-\x1f\x7f-\x9f\u2028\u2029]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** Why `value` cannot go into a header, or null. */
export function findUnsafeCharacter(value: string, options: { allowTab?: boolean } = {}): string | null {
  const match = (options.allowTab ? UNSAFE_EXCEPT_TAB : UNSAFE).exec(value);
  if (!match) return null;
  const code = match[0].charCodeAt(0);
  const codePoint = `U+${code.toString(16).toUpperCase().padStart(4, "0")}`;
  if (code === 0x0a || code === 0x0d) return `contains a line break (${codePoint})`;
  if (code === 0x2028 || code === 0x2029) return `contains a Unicode line separator (${codePoint})`;
  if (code >= 0xd800 && code <= 0xdfff) return `contains an unpaired surrogate (${codePoint})`;
  return `contains a control character (${codePoint})`;
}
