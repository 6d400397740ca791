// HTTP Basic (RFC 7617) with SASL PLAIN semantics (RFC 4616): the user-id is the authcid, there is
// no authzid, and the same limits as Postfix's SASL responses apply.

export type BasicCredentials =
  | { ok: true; username: string; password: string }
  | { ok: false; reason: string };

/** Postfix's smtpd_sasl_response_limit default. */
export const BASIC_CREDENTIALS_LIMIT = 12288;

const SCHEME = /^basic(?: +(.*))?$/is;
const TOKEN68_BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;
const CONTROL = /\p{Cc}/u; // NUL, the rest of C0, DEL and C1
// ignoreBOM keeps a leading U+FEFF: the decoded text maps the bytes exactly
const decoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/**
 * null: no header, or another scheme (let the next scheme look at it). Otherwise the decoded
 * credentials or why they are unusable; reasons are fixed texts, safe for logs.
 */
export function parseBasicAuthorization(header: string | null | undefined): BasicCredentials | null {
  if (header == null) return null;
  const match = SCHEME.exec(header.trim());
  if (!match) return null;
  const token = (match[1] ?? "").trim();
  if (token.length === 0) return { ok: false, reason: "missing credentials" };
  // Checked before decoding so a huge header costs nothing. The header is ASCII, so chars = bytes.
  if (token.length > BASIC_CREDENTIALS_LIMIT) {
    return { ok: false, reason: `credentials longer than ${BASIC_CREDENTIALS_LIMIT} bytes` };
  }
  if (!TOKEN68_BASE64.test(token)) return { ok: false, reason: "cannot decode credentials" };
  let text: string;
  try {
    const binary = atob(token);
    const bytes = new Uint8Array(binary.length);
    for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
    text = decoder.decode(bytes); // RFC 7617 §2.1: charset="UTF-8"
  } catch {
    return { ok: false, reason: "cannot decode credentials" };
  }
  const colon = text.indexOf(":"); // RFC 7617 §2: the user-id cannot contain ':'
  if (colon < 0) return { ok: false, reason: "missing ':' between user-id and password" };
  const username = text.slice(0, colon);
  const password = text.slice(colon + 1);
  if (username.length === 0) return { ok: false, reason: "empty user-id" };
  if (CONTROL.test(username)) return { ok: false, reason: "control character in user-id" };
  if (CONTROL.test(password)) return { ok: false, reason: "control character in password" };
  return { ok: true, username, password };
}
