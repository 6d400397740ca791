// SCRAM over HTTP (RFC 7804), message framing only: the SCRAM messages travel base64 in a `data`
// auth-param, and the server names its exchange with `sid`.
//
//   C: Authorization: SCRAM-SHA-256 [realm="..",] data=<client-first>
//   S: 401, WWW-Authenticate: SCRAM-SHA-256 sid=<sid>, data=<server-first>
//   C: Authorization: SCRAM-SHA-256 sid=<sid>, data=<client-final>
//   S: 200, Authentication-Info: sid=<sid>, data=<server-final>
//
// Auth-params follow RFC 7235 §2.1 (token or quoted-string, names case-insensitive, optional
// whitespace around '=' and ','); a `data` value is base64, whose '/' and '=' are not token
// characters, so an unquoted value may also carry those.

import { base64ToBytes, bytesToBase64 } from "../encoding/base64.ts";

/** The HTTP schemes RFC 7804 registers; -PLUS has no HTTP form. */
export type HttpScramScheme = "SCRAM-SHA-1" | "SCRAM-SHA-256";

/** Postfix's smtpd_sasl_response_limit default, applied to the whole header value. */
export const HTTP_SCRAM_LIMIT = 12288;

export type ScramAuthorization =
  | {
      ok: true;
      scheme: HttpScramScheme;
      /** The decoded SCRAM message. */
      data: Uint8Array;
      /** Present from the client-final on: the server's exchange id. */
      sid: string | null;
      realm: string | null;
    }
  | { ok: false; reason: string };

const SCHEME = /^(SCRAM-SHA-256|SCRAM-SHA-1)(?=[ \t]|$)/i;
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+/;
/** token plus base64's '/' and trailing '=' padding. */
const UNQUOTED = /^[!#$%&'*+\-.^_`|~0-9A-Za-z/]+=*/;
const QUOTED = /^"((?:[\t \x21\x23-\x5b\x5d-\x7e\x80-\xff]|\\[\t \x21-\x7e\x80-\xff])*)"/;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const NOT_FIELD_TEXT = /[^\t\x20-\x7e\x80-\xff]/; // CR, LF, NUL and other controls never belong
const WHITESPACE = /^[ \t]*/;

/** RFC 7235 #auth-param: name (lowercased) to value, or why the list does not parse. */
function parseAuthParams(
  text: string,
): { ok: true; params: Map<string, string> } | { ok: false; reason: string } {
  const params = new Map<string, string>();
  let rest = text;
  const skipWhitespace = () => {
    rest = rest.slice(WHITESPACE.exec(rest)![0].length);
  };
  for (;;) {
    // Empty list elements are allowed (RFC 7230 §7): "a=1, ,b=2".
    skipWhitespace();
    while (rest.startsWith(",")) {
      rest = rest.slice(1);
      skipWhitespace();
    }
    if (rest.length === 0) return { ok: true, params };
    const name = TOKEN.exec(rest)?.[0];
    if (!name) return { ok: false, reason: "bad auth-param name" };
    rest = rest.slice(name.length);
    skipWhitespace();
    if (!rest.startsWith("=")) return { ok: false, reason: "auth-param without '='" };
    rest = rest.slice(1);
    skipWhitespace();
    let value: string;
    const quoted = QUOTED.exec(rest);
    if (quoted) {
      value = quoted[1]!.replace(/\\(.)/g, "$1");
      rest = rest.slice(quoted[0].length);
    } else {
      const unquoted = UNQUOTED.exec(rest)?.[0];
      if (!unquoted) return { ok: false, reason: `bad value for ${name}` };
      value = unquoted;
      rest = rest.slice(unquoted.length);
    }
    const key = name.toLowerCase();
    if (params.has(key)) return { ok: false, reason: `duplicate ${key}` };
    params.set(key, value);
    skipWhitespace();
    if (rest.length > 0 && !rest.startsWith(",")) return { ok: false, reason: `junk after ${name}` };
  }
}

/**
 * null: no header, or another scheme (let the next scheme look at it). Otherwise the decoded
 * SCRAM message with sid and realm, or why the header is unusable; reasons are fixed texts.
 */
export function parseScramAuthorization(header: string | null | undefined): ScramAuthorization | null {
  if (header == null) return null;
  const value = header.trim();
  const scheme = SCHEME.exec(value);
  if (!scheme) return null;
  // Checked before parsing so a huge header costs nothing.
  if (value.length > HTTP_SCRAM_LIMIT)
    return { ok: false, reason: `header longer than ${HTTP_SCRAM_LIMIT} bytes` };
  if (NOT_FIELD_TEXT.test(value)) return { ok: false, reason: "control character in header" };
  const parsed = parseAuthParams(value.slice(scheme[0].length));
  if (!parsed.ok) return parsed;
  const data = parsed.params.get("data");
  if (data === undefined) return { ok: false, reason: "missing data" };
  if (data.length === 0 || !BASE64.test(data)) return { ok: false, reason: "data is not base64" };
  let bytes = base64ToBytes(data);
  // RFC 7804 §5's example messages each end in an encoded LF, which SCRAM's grammar has no room
  // for at the end of any client message; drop it so clients written from the example work.
  if (bytes.at(-1) === 0x0a) bytes = bytes.subarray(0, -1);
  return {
    ok: true,
    scheme: scheme[1]!.toUpperCase() as HttpScramScheme,
    data: bytes,
    sid: parsed.params.get("sid") ?? null,
    realm: parsed.params.get("realm") ?? null,
  };
}

function token(name: string, value: string): string {
  if (!TOKEN.test(value) || TOKEN.exec(value)![0] !== value) {
    throw new TypeError(`${name} must be an HTTP token`);
  }
  return value;
}

function quote(name: string, value: string): string {
  if (NOT_FIELD_TEXT.test(value)) throw new TypeError(`${name} must not contain control characters`);
  return `"${value.replace(/["\\]/g, "\\$&")}"`;
}

/**
 * A WWW-Authenticate challenge: with realm only, the first offer; with sid and data, the
 * server-first message. Throws TypeError for values that would break the header (server bugs).
 */
export function formatScramChallenge(
  scheme: HttpScramScheme,
  params: { realm?: string; sid?: string; data?: Uint8Array },
): string {
  const parts: string[] = [];
  if (params.realm !== undefined) parts.push(`realm=${quote("realm", params.realm)}`);
  if (params.sid !== undefined) parts.push(`sid=${token("sid", params.sid)}`);
  if (params.data !== undefined) parts.push(`data=${bytesToBase64(params.data)}`);
  return parts.length > 0 ? `${scheme} ${parts.join(", ")}` : scheme;
}

/** The Authentication-Info value that carries the server-final message with success. */
export function formatScramAuthenticationInfo(params: { sid: string; data: Uint8Array }): string {
  return `sid=${token("sid", params.sid)}, data=${bytesToBase64(params.data)}`;
}
