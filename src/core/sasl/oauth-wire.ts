// The wire OAUTHBEARER (RFC 7628 §3.1) and XOAUTH2 share: `key=value` pairs each ended by %x01,
// the list ended by one more %x01, the `auth` value in the HTTP Authorization format of RFC 6750
// §2.1 ("Bearer" 1*SP b64token), and a JSON error document with a `status` member.

/** Postfix's smtpd_sasl_response_limit default: a bearer token is big, but not unbounded. */
export const OAUTH_RESPONSE_LIMIT = 12288;

export const KVSEP = "\x01";

// RFC 7628 §3.1: key = 1*(ALPHA); value = *(VCHAR / SP / HTAB / CR / LF)
const KEY = /^[A-Za-z]+$/;
const VALUE = /^[\x21-\x7e \t\r\n]*$/;
// RFC 6750 §2.1: the scheme is case-insensitive (RFC 7235 §2.1), b64token is token68
const BEARER = /^bearer +([A-Za-z0-9\-._~+/]+=*)$/i;

const textDecoder = new TextDecoder();
// ignoreBOM keeps a leading U+FEFF: the decoded text maps the bytes exactly
const decoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/** UTF-8 text of a client response within the size limit, or why not. */
export function decodeOAuthResponse(
  bytes: Uint8Array,
): { ok: true; text: string } | { ok: false; reason: string } {
  if (bytes.length === 0) return { ok: false, reason: "empty response" };
  if (bytes.length > OAUTH_RESPONSE_LIMIT) {
    return { ok: false, reason: `response longer than ${OAUTH_RESPONSE_LIMIT} bytes` };
  }
  try {
    return { ok: true, text: decoder.decode(bytes) };
  } catch {
    return { ok: false, reason: "response is not UTF-8" };
  }
}

/**
 * Parses `*kvpair kvsep` (the text after the gs2 header's kvsep, or all of XOAUTH2). Keys are
 * lowercased; a repeated key is refused, since which copy counts would be a guess.
 */
export function parseOAuthKvPairs(
  text: string,
): { ok: true; pairs: Map<string, string> } | { ok: false; reason: string } {
  if (!text.endsWith(KVSEP + KVSEP) && text !== KVSEP) {
    return { ok: false, reason: "missing the final \\x01\\x01" };
  }
  const pairs = new Map<string, string>();
  // Drop the list's closing kvsep, then every remaining field ends with one kvsep.
  const body = text.slice(0, -1);
  if (body.length === 0) return { ok: true, pairs };
  const fields = body.slice(0, -1).split(KVSEP);
  for (const field of fields) {
    const eq = field.indexOf("=");
    if (eq <= 0) return { ok: false, reason: "key/value pair without a key" };
    const key = field.slice(0, eq);
    const value = field.slice(eq + 1);
    if (!KEY.test(key)) return { ok: false, reason: "key is not letters only" };
    if (!VALUE.test(value)) return { ok: false, reason: "value has a character outside VCHAR" };
    const lower = key.toLowerCase();
    if (pairs.has(lower)) return { ok: false, reason: `key "${lower}" repeated` };
    pairs.set(lower, value);
  }
  return { ok: true, pairs };
}

/** The token of an `auth` value, or null when it is not `Bearer <b64token>`. */
export function bearerTokenOf(auth: string): string | null {
  return BEARER.exec(auth)?.[1] ?? null;
}

/** Whether a token can be sent as a b64token (client side: never frame a broken response). */
export function isB64Token(token: string): boolean {
  return BEARER.test(`Bearer ${token}`);
}

/** The `status` of a server's JSON error challenge, or null when the challenge is not one. */
export function oauthErrorStatus(challenge: Uint8Array): string | null {
  try {
    const document: unknown = JSON.parse(textDecoder.decode(challenge));
    if (typeof document !== "object" || document === null) return null;
    const status = (document as { status?: unknown }).status;
    return typeof status === "string" ? status : null;
  } catch {
    return null;
  }
}
