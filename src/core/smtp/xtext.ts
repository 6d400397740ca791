// xtext (RFC 3461 §4), the encoding of ESMTP parameter values that may hold any octet: ENVID=,
// ORCPT= and AUTH= (RFC 4954 §5). Printable ASCII stands for itself except "+" and "=", every other
// octet is "+" and two upper-case hex digits. Decoded octets are read as UTF-8 (RFC 6533 allows
// UTF-8 addresses), so the result is text or null.

// xchar: "!" to "~" except "+" and "="; hexchar: "+" 2HEXDIG with upper-case letters only.
const XTEXT = /^(?:[\x21-\x2a\x2c-\x3c\x3e-\x7e]|\+[0-9A-F]{2})*$/;

const decoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
const encoder = new TextEncoder();

/** The decoded value, or null when `value` is not xtext or does not decode to UTF-8. */
export function decodeXtext(value: string): string | null {
  if (!XTEXT.test(value)) return null;
  const bytes: number[] = [];
  for (let i = 0; i < value.length; i++) {
    if (value[i] === "+") {
      bytes.push(Number.parseInt(value.slice(i + 1, i + 3), 16));
      i += 2;
    } else {
      bytes.push(value.charCodeAt(i));
    }
  }
  try {
    return decoder.decode(Uint8Array.from(bytes));
  } catch {
    return null;
  }
}

export function encodeXtext(value: string): string {
  let out = "";
  for (const byte of encoder.encode(value)) {
    out +=
      byte >= 0x21 && byte <= 0x7e && byte !== 0x2b && byte !== 0x3d
        ? String.fromCharCode(byte)
        : `+${byte.toString(16).toUpperCase().padStart(2, "0")}`;
  }
  return out;
}
