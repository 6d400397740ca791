// The directive lists of DIGEST-MD5 (RFC 2831 §7.1, HTTP/1.1's #rule): `name=token` or
// `name="quoted string"`, separated by commas with optional whitespace, empty elements allowed.
// Works on a binary string (one char per octet) so that quoted 8-bit text passes through as the
// octets the peer sent; the caller decodes them by the charset directive.

export type DirectiveList =
  | { ok: true; value: [name: string, value: string][] }
  | { ok: false; reason: string };

const SEPARATORS = new Set('()<>@,;:\\"/[]?={} \t');
const LWS = new Set(" \t\r\n");

function isTokenChar(text: string, index: number): boolean {
  const code = text.charCodeAt(index);
  return code > 0x20 && code < 0x7f && !SEPARATORS.has(text.charAt(index));
}

/** Parses a directive list; names come back lowercased, values unquoted and unescaped. */
export function parseDigestDirectives(text: string): DirectiveList {
  const directives: [string, string][] = [];
  const fail = (reason: string): DirectiveList => ({ ok: false, reason });
  let i = 0;
  const skipSpace = () => {
    while (i < text.length && LWS.has(text.charAt(i))) i++;
  };
  for (;;) {
    skipSpace();
    while (text.charAt(i) === ",") {
      i++;
      skipSpace();
    }
    if (i >= text.length) return { ok: true, value: directives };
    const nameStart = i;
    while (i < text.length && isTokenChar(text, i)) i++;
    if (i === nameStart) return fail("expected a directive name");
    const name = text.slice(nameStart, i).toLowerCase();
    skipSpace();
    if (text.charAt(i) !== "=") return fail(`expected "=" after ${name}`);
    i++;
    skipSpace();
    let value = "";
    if (text.charAt(i) === '"') {
      i++;
      for (;;) {
        if (i >= text.length) return fail(`unterminated quoted string in ${name}`);
        const char = text.charAt(i);
        if (char === '"') break;
        if (char === "\\") {
          i++;
          if (i >= text.length) return fail(`unterminated quoted string in ${name}`);
        }
        const code = text.charCodeAt(i);
        // TEXT excludes controls (but not whitespace); quoted-pair escapes US-ASCII only.
        if ((code < 0x20 && !LWS.has(text.charAt(i))) || code === 0x7f) {
          return fail(`control character in ${name}`);
        }
        if (char === "\\" && code > 0x7f) return fail(`bad escape in ${name}`);
        value += text.charAt(i);
        i++;
      }
      i++;
    } else {
      const valueStart = i;
      while (i < text.length && isTokenChar(text, i)) i++;
      if (i === valueStart) return fail(`expected a value for ${name}`);
      value = text.slice(valueStart, i);
    }
    directives.push([name, value]);
    skipSpace();
    if (i < text.length && text.charAt(i) !== ",") return fail(`expected "," after ${name}`);
  }
}

/** A quoted-string carrying `value` (RFC 2616 §2.2). */
export function quoteDigestValue(value: string): string {
  return `"${value.replace(/[\\"]/g, "\\$&")}"`;
}
