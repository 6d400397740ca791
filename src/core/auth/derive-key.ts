// Purpose-bound keys from the one deployment secret: HKDF-SHA-256 (RFC 5869) with a distinct
// `info` per use, so a key for sealing continuations can never verify a session token.

import { ConfigError } from "../config/settings.ts";
import { utf8 } from "./digest.ts";

/** Below this a secret is guessable (and a typo'd short one must not become a working key). */
export const DERIVE_SECRET_MIN_BYTES = 16;
const KEY_BYTES = 32;

/** 32 bytes for `info`. No salt: the secret is already uniformly random (RFC 5869 §3.1). */
export async function deriveKey(secret: Uint8Array, info: string): Promise<Uint8Array> {
  if (secret.length < DERIVE_SECRET_MIN_BYTES) {
    throw new ConfigError(`the deployment secret must be at least ${DERIVE_SECRET_MIN_BYTES} bytes`);
  }
  const base = await crypto.subtle.importKey("raw", secret, "HKDF", false, ["deriveBits"]);
  const bits = await crypto.subtle.deriveBits(
    { name: "HKDF", hash: "SHA-256", salt: new Uint8Array(), info: utf8(info) },
    base,
    KEY_BYTES * 8,
  );
  return new Uint8Array(bits);
}
