// Short-lived tokens Postern issues after a successful SASL exchange over HTTP, presented back as
// `Authorization: Bearer`. HS256 under a key derived from the deployment secret: the only party
// that verifies them is the one that signed them, so a MAC is the right tool here (external
// issuers, by contrast, are asymmetric only). The claims tie the token to its purpose: iss
// "postern", aud "postern-session" and an explicit typ (RFC 8725 §3.11), so no other JWT Postern
// handles can be replayed as one of these.

import { decodeJwt, jwtVerify, SignJWT } from "jose";
import { bytesToBase64Url } from "../encoding/base64.ts";
import { deriveKey } from "./derive-key.ts";
import { describeJwtFailure } from "./jwt-failure.ts";
import { RESERVED_ISSUER } from "./jwt-issuer-config.ts";

export const SESSION_TOKEN_ISSUER = RESERVED_ISSUER;
export const SESSION_TOKEN_AUDIENCE = "postern-session";
export const SESSION_TOKEN_TYPE = "postern-session+jwt";
export const SESSION_TOKEN_DEFAULT_TTL = 900;
export const SESSION_TOKEN_MAX_TTL = 3600;
/** Real session tokens are a few hundred bytes; anything much longer is not one. */
const TOKEN_LIMIT = 4096;
const KEY_MIN_BYTES = 32;
// Tokens are checked where they were issued, but isolates' clocks still differ a little.
const CLOCK_TOLERANCE = 5;
const CONTROL = /\p{Cc}/u;

export type SessionTokenResult =
  | {
      ok: true;
      login: string;
      /** The SASL mechanism the session was authenticated with. */
      mechanism: string;
      /** Milliseconds since the epoch. */
      issuedAt: number;
      expiresAt: number;
      jti: string;
    }
  | { ok: false; reason: string };

/** The session token key for a deployment secret (HKDF-SHA-256, info "postern session token v1"). */
export function deriveSessionKey(secretBytes: Uint8Array): Promise<Uint8Array> {
  return deriveKey(secretBytes, "postern session token v1");
}

export async function issueSessionToken(
  key: Uint8Array,
  options: { login: string; mechanism: string; ttlSeconds?: number; now?: () => number },
): Promise<string> {
  checkKey(key);
  const ttl = options.ttlSeconds ?? SESSION_TOKEN_DEFAULT_TTL;
  if (!Number.isInteger(ttl) || ttl < 1 || ttl > SESSION_TOKEN_MAX_TTL) {
    throw new RangeError(`session token ttl must be 1 to ${SESSION_TOKEN_MAX_TTL} seconds`);
  }
  if (options.login === "" || CONTROL.test(options.login))
    throw new TypeError("session token login is unusable");
  const issuedAt = Math.floor((options.now ?? Date.now)() / 1000);
  return new SignJWT({ mech: options.mechanism })
    .setProtectedHeader({ alg: "HS256", typ: SESSION_TOKEN_TYPE })
    .setIssuer(SESSION_TOKEN_ISSUER)
    .setAudience(SESSION_TOKEN_AUDIENCE)
    .setSubject(options.login)
    .setIssuedAt(issuedAt)
    .setExpirationTime(issuedAt + ttl)
    .setJti(bytesToBase64Url(crypto.getRandomValues(new Uint8Array(16))))
    .sign(key);
}

/** Never throws for a bad token: every refusal is a value with a short, safe reason. */
export async function verifySessionToken(
  key: Uint8Array,
  token: string,
  options: { now?: () => number } = {},
): Promise<SessionTokenResult> {
  checkKey(key);
  if (typeof token !== "string" || token === "" || token.length > TOKEN_LIMIT) {
    return { ok: false, reason: "malformed token" };
  }
  let payload: Record<string, unknown>;
  try {
    ({ payload } = await jwtVerify(token, key, {
      algorithms: ["HS256"],
      issuer: SESSION_TOKEN_ISSUER,
      audience: SESSION_TOKEN_AUDIENCE,
      typ: SESSION_TOKEN_TYPE,
      requiredClaims: ["sub", "exp", "iat", "jti", "mech"],
      clockTolerance: CLOCK_TOLERANCE,
      currentDate: new Date((options.now ?? Date.now)()),
    }));
  } catch (error) {
    return { ok: false, reason: describeJwtFailure(error).reason };
  }
  const { sub, mech, iat, exp, jti } = payload;
  if (typeof sub !== "string" || sub === "" || CONTROL.test(sub)) return { ok: false, reason: "bad sub" };
  if (typeof mech !== "string" || typeof jti !== "string") return { ok: false, reason: "bad claims" };
  if (typeof iat !== "number" || typeof exp !== "number" || exp - iat > SESSION_TOKEN_MAX_TTL) {
    return { ok: false, reason: "bad lifetime" };
  }
  return { ok: true, login: sub, mechanism: mech, issuedAt: iat * 1000, expiresAt: exp * 1000, jti };
}

/**
 * Whether a bearer token claims to be one of Postern's session tokens (unverified `iss`), so the
 * HTTP layer sends it to verifySessionToken and everything else to the external issuers. Routing
 * only: a forged claim just lands at the verifier that refuses it.
 */
export function isSessionToken(token: string): boolean {
  if (typeof token !== "string" || token.length > TOKEN_LIMIT) return false;
  try {
    return decodeJwt(token).iss === SESSION_TOKEN_ISSUER;
  } catch {
    return false;
  }
}

function checkKey(key: Uint8Array): void {
  // RFC 7518 §3.2: an HS256 key must be at least as long as the hash output.
  if (!(key instanceof Uint8Array) || key.length < KEY_MIN_BYTES) {
    throw new TypeError(`session token key must be at least ${KEY_MIN_BYTES} bytes`);
  }
}
