// MIME parameters (RFC 2045 §5.1) for attachment names. Short printable-ASCII values are
// quoted-strings; non-ASCII or long values use RFC 2231 extended values (charset'lang'%XX) split
// into numbered continuations, so no line passes 78 columns and no encoding is guessed by readers.

const ATTR_CHAR = /[A-Za-z0-9!#$&+\-.^_`|~]/; // RFC 2231 §7 attribute-char
const PRINTABLE_ASCII = /^[\x20-\x7e]*$/;
const MAX_QUOTED = 60;
const SEGMENT = 60;
const encoder = new TextEncoder();

/** `attribute=value` pieces to put after "; " (one piece, or several RFC 2231 continuations). */
export function formatParameter(attribute: string, value: string): string[] {
  if (PRINTABLE_ASCII.test(value) && value.length <= MAX_QUOTED) {
    return [`${attribute}="${value.replace(/["\\]/g, "\\$&")}"`];
  }
  const units: string[] = [];
  for (const byte of encoder.encode(value)) {
    const char = String.fromCharCode(byte);
    units.push(
      byte < 0x80 && ATTR_CHAR.test(char) ? char : `%${byte.toString(16).toUpperCase().padStart(2, "0")}`,
    );
  }
  const segments: string[] = [];
  let current = "";
  for (const unit of units) {
    if (current.length + unit.length > SEGMENT) {
      segments.push(current);
      current = "";
    }
    current += unit;
  }
  segments.push(current);
  if (segments.length === 1) return [`${attribute}*=UTF-8''${segments[0]}`];
  return segments.map((segment, index) => `${attribute}*${index}*=${index === 0 ? "UTF-8''" : ""}${segment}`);
}
