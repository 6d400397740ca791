// Secrets at rest (smarthost passwords, OAuth refresh tokens): AES-256-GCM under a key ring.
// Format: v1.<kid>.<iv base64url>.<ciphertext+tag base64url>. The first key of the ring encrypts;
// any key decrypts by kid, so keys rotate by prepending a new one and re-sealing at leisure.
// The caller's `aad` names where the value lives (table, row key), so a sealed value copied into
// another row fails to open instead of handing out the wrong credential.

import { base64ToBytes, base64UrlToBytes, bytesToBase64Url } from "../encoding/base64.ts";
import { AuthError } from "./auth-error.ts";
import { utf8 } from "./digest.ts";

export interface KeyRing {
  /** kid used by sealSecret */
  readonly current: string;
  readonly keys: ReadonlyMap<string, Uint8Array>;
}

const VERSION = "v1";
const KID = /^[A-Za-z0-9_-]{1,32}$/;
const KEY_BYTES = 32;
const IV_BYTES = 12; // the GCM nonce size (NIST SP 800-38D §5.2.1.1)
const TAG_BYTES = 16;
const SEALED = /^v1\.[A-Za-z0-9_-]{1,32}\.[A-Za-z0-9_-]{16}\.[A-Za-z0-9_-]{22,}$/;
// ignoreBOM keeps a leading U+FEFF: the decoded text maps the bytes exactly
const decoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/**
 * Parses `kid:base64key[,kid2:base64key...]` (POSTERN_SECRET_KEY). Throws ERR_SECRET_KEYRING; the
 * message names the kid or position, never key material.
 */
export function parseKeyRing(value: string): KeyRing {
  const keys = new Map<string, Uint8Array>();
  const entries = value.split(",").map((entry) => entry.trim());
  entries.forEach((entry, index) => {
    const colon = entry.indexOf(":");
    const kid = colon < 0 ? "" : entry.slice(0, colon);
    if (!KID.test(kid)) {
      throw new AuthError(
        "ERR_SECRET_KEYRING",
        `key ring entry ${index + 1} must be kid:base64key with a kid of 1-32 letters, digits, '-' or '_'`,
      );
    }
    if (keys.has(kid)) throw new AuthError("ERR_SECRET_KEYRING", `key ring has kid ${kid} twice`);
    let key: Uint8Array;
    try {
      // accept base64url too: keys get pasted from either kind of tool
      key = base64ToBytes(
        entry
          .slice(colon + 1)
          .replace(/-/g, "+")
          .replace(/_/g, "/"),
      );
    } catch {
      throw new AuthError("ERR_SECRET_KEYRING", `key ${kid} is not base64`);
    }
    if (key.length !== KEY_BYTES) {
      throw new AuthError("ERR_SECRET_KEYRING", `key ${kid} must be ${KEY_BYTES} bytes, got ${key.length}`);
    }
    keys.set(kid, key);
  });
  const current = entries[0]!.slice(0, entries[0]!.indexOf(":"));
  return { current, keys };
}

/** True when `value` has the sealed shape (it may still fail to open). */
export function isSealed(value: string): boolean {
  return SEALED.test(value);
}

/** The kid a sealed value was made with: re-seal rows whose kid is not `ring.current`. */
export function sealedKeyId(sealed: string): string | null {
  return isSealed(sealed) ? sealed.split(".")[1]! : null;
}

export async function sealSecret(ring: KeyRing, plaintext: string, aad: string): Promise<string> {
  const kid = ring.current;
  const key = await importKey(ring, kid);
  const iv = crypto.getRandomValues(new Uint8Array(IV_BYTES));
  const ciphertext = await crypto.subtle.encrypt(
    { name: "AES-GCM", iv, additionalData: additionalData(kid, aad), tagLength: TAG_BYTES * 8 },
    key,
    utf8(plaintext),
  );
  return `${VERSION}.${kid}.${bytesToBase64Url(iv)}.${bytesToBase64Url(new Uint8Array(ciphertext))}`;
}

/** Throws ERR_SECRET_FORMAT, ERR_SECRET_KEY (kid not in the ring) or ERR_SECRET_INTEGRITY. */
export async function openSecret(ring: KeyRing, sealed: string, aad: string): Promise<string> {
  if (!isSealed(sealed)) throw new AuthError("ERR_SECRET_FORMAT", "value is not a v1 sealed secret");
  const [, kid, ivText, ciphertextText] = sealed.split(".") as [string, string, string, string];
  let iv: Uint8Array;
  let ciphertext: Uint8Array;
  try {
    iv = base64UrlToBytes(ivText);
    ciphertext = base64UrlToBytes(ciphertextText);
  } catch {
    throw new AuthError("ERR_SECRET_FORMAT", "value is not a v1 sealed secret");
  }
  if (iv.length !== IV_BYTES || ciphertext.length < TAG_BYTES) {
    throw new AuthError("ERR_SECRET_FORMAT", "value is not a v1 sealed secret");
  }
  const key = await importKey(ring, kid);
  let plaintext: ArrayBuffer;
  try {
    plaintext = await crypto.subtle.decrypt(
      { name: "AES-GCM", iv, additionalData: additionalData(kid, aad), tagLength: TAG_BYTES * 8 },
      key,
      ciphertext,
    );
  } catch {
    throw new AuthError("ERR_SECRET_INTEGRITY", `sealed secret (key ${kid}) failed authentication`);
  }
  return decoder.decode(plaintext);
}

// The version and kid are authenticated with the caller's context, as JWE protects its header. The
// kid cannot contain '.', so the concatenation is unambiguous.
function additionalData(kid: string, aad: string): Uint8Array {
  return utf8(`${VERSION}.${kid}.${aad}`);
}

// No CryptoKey annotation: that global type exists in the Workers types, not in Node's.
async function importKey(ring: KeyRing, kid: string) {
  const raw = ring.keys.get(kid);
  if (raw === undefined) throw new AuthError("ERR_SECRET_KEY", `no key with kid ${kid} in the key ring`);
  return crypto.subtle.importKey("raw", raw, { name: "AES-GCM" }, false, ["encrypt", "decrypt"]);
}
