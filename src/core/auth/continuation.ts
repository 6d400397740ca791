// Sealed continuations for the stateless HTTP SASL exchange: the server mechanism's state travels
// to the client and back between steps, so it must be secret (SCRAM's nonces, a CRAM challenge)
// and tamper-proof. Compact JWE, alg "dir" + A256GCM under a key derived from the deployment
// secret; the protected header (with its typ) is authenticated as the AEAD's associated data.
// A continuation can be presented more than once within its lifetime; the random jti lets the
// caller refuse a replay where that matters.

import { CompactEncrypt, compactDecrypt } from "jose";
import { bytesToBase64Url } from "../encoding/base64.ts";
import { deriveKey } from "./derive-key.ts";

export interface ContinuationPayload {
  /** The SASL mechanism whose state this is. */
  mech: string;
  state: Record<string, unknown>;
  /** The login the exchange is about, once known (for the log line of a later failure). */
  login?: string;
}

export type OpenedContinuation =
  | { ok: true; payload: ContinuationPayload; expiresAt: number; jti: string }
  /** malformed: not a continuation; invalid: tampered, foreign or another key; expired: too late. */
  | { ok: false; reason: "malformed" | "invalid" | "expired" };

export const CONTINUATION_TYPE = "postern-sasl-continuation";
export const CONTINUATION_DEFAULT_TTL = 120;
export const CONTINUATION_MAX_TTL = 600;
/** Mechanism states are small; this also bounds the work an unauthenticated request can cause. */
export const CONTINUATION_LIMIT = 16384;
const KEY_BYTES = 32; // A256GCM
const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/** The continuation key for a deployment secret (HKDF-SHA-256, info "postern sasl continuation v1"). */
export function deriveContinuationKey(secretBytes: Uint8Array): Promise<Uint8Array> {
  return deriveKey(secretBytes, "postern sasl continuation v1");
}

export async function sealContinuation(
  key: Uint8Array,
  payload: ContinuationPayload,
  options: { ttlSeconds?: number; now?: () => number } = {},
): Promise<string> {
  checkKey(key);
  const ttl = options.ttlSeconds ?? CONTINUATION_DEFAULT_TTL;
  if (!Number.isInteger(ttl) || ttl < 1 || ttl > CONTINUATION_MAX_TTL) {
    throw new RangeError(`continuation ttl must be 1 to ${CONTINUATION_MAX_TTL} seconds`);
  }
  const now = Math.floor((options.now ?? Date.now)() / 1000);
  const body: Record<string, unknown> = {
    mech: payload.mech,
    state: payload.state,
    exp: now + ttl,
    jti: bytesToBase64Url(crypto.getRandomValues(new Uint8Array(16))),
  };
  if (payload.login !== undefined) body.login = payload.login;
  const token = await new CompactEncrypt(encoder.encode(JSON.stringify(body)))
    .setProtectedHeader({ alg: "dir", enc: "A256GCM", typ: CONTINUATION_TYPE })
    .encrypt(key);
  if (token.length > CONTINUATION_LIMIT) throw new RangeError("continuation state too large");
  return token;
}

/** Never throws for a bad token: every refusal is a value. */
export async function openContinuation(
  key: Uint8Array,
  token: string,
  options: { now?: () => number } = {},
): Promise<OpenedContinuation> {
  checkKey(key);
  if (typeof token !== "string" || token.length > CONTINUATION_LIMIT || token.split(".").length !== 5) {
    return { ok: false, reason: "malformed" };
  }
  let plaintext: Uint8Array;
  try {
    const result = await compactDecrypt(token, key, {
      keyManagementAlgorithms: ["dir"],
      contentEncryptionAlgorithms: ["A256GCM"],
    });
    if (result.protectedHeader.typ !== CONTINUATION_TYPE) return { ok: false, reason: "invalid" };
    plaintext = result.plaintext;
  } catch {
    return { ok: false, reason: "invalid" };
  }
  let body: unknown;
  try {
    body = JSON.parse(decoder.decode(plaintext));
  } catch {
    return { ok: false, reason: "invalid" };
  }
  // Authenticated by our key, so a wrong shape is a foreign or older format, not an attack.
  if (!isObject(body) || typeof body.mech !== "string" || !isObject(body.state))
    return { ok: false, reason: "invalid" };
  if (typeof body.exp !== "number" || typeof body.jti !== "string") return { ok: false, reason: "invalid" };
  if (body.login !== undefined && typeof body.login !== "string") return { ok: false, reason: "invalid" };
  if ((options.now ?? Date.now)() >= body.exp * 1000) return { ok: false, reason: "expired" };
  const payload: ContinuationPayload = { mech: body.mech, state: body.state };
  if (typeof body.login === "string") payload.login = body.login;
  return { ok: true, payload, expiresAt: body.exp * 1000, jti: body.jti };
}

function checkKey(key: Uint8Array): void {
  if (!(key instanceof Uint8Array) || key.length !== KEY_BYTES) {
    throw new TypeError(`continuation key must be ${KEY_BYTES} bytes`);
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
