// The H() and HMAC() of RFC 5802 §2.2 for the two hashes SCRAM runs with here: SHA-1 (RFC 5802)
// and SHA-256 (RFC 7677). Both are in crypto.subtle everywhere the core runs.

export type ScramHash = "SHA-1" | "SHA-256";

/** Output sizes: every SCRAM key (SaltedPassword, StoredKey, ServerKey, proofs) is this long. */
export const SCRAM_HASHES = {
  "SHA-1": { bytes: 20 },
  "SHA-256": { bytes: 32 },
} as const satisfies Record<ScramHash, { bytes: number }>;

export async function scramDigest(hash: ScramHash, data: Uint8Array): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.digest(hash, data));
}

export async function scramHmac(hash: ScramHash, key: Uint8Array, data: Uint8Array): Promise<Uint8Array> {
  const hmacKey = await crypto.subtle.importKey("raw", key, { name: "HMAC", hash }, false, ["sign"]);
  return new Uint8Array(await crypto.subtle.sign("HMAC", hmacKey, data));
}
