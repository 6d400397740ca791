// The one stored credential (DESIGN: Credentials): SCRAM keys per RFC 5802 §3 for SHA-256
// (RFC 7677) and SHA-1 (RFC 5802), from one password, salt and iteration count. SCRAM-SHA-1 cannot
// be verified with SHA-256 keys, so both key pairs are kept; the SHA-256 pair also verifies PLAIN,
// LOGIN and HTTP Basic by recomputing StoredKey, so no plaintext-equivalent secret is kept.

import { base64ToBytes, bytesToBase64 } from "../encoding/base64.ts";
import { AuthError } from "./auth-error.ts";
import { utf8 } from "./digest.ts";
import { normalizePassword } from "./normalize-password.ts";
import { SCRAM_HASHES, type ScramHash, scramDigest, scramHmac } from "./scram-hash.ts";

export type { ScramHash } from "./scram-hash.ts";

/** The SHA-256 keys alone: what PLAIN, LOGIN and Basic are verified against. */
export interface ScramRecord {
  mechanism: "SCRAM-SHA-256";
  /** base64 */
  salt: string;
  iterations: number;
  /** base64 of H(ClientKey) */
  storedKey: string;
  /** base64 of HMAC(SaltedPassword, "Server Key") */
  serverKey: string;
}

/** base64 StoredKey and ServerKey for one hash. */
export interface ScramKeyPair {
  storedKey: string;
  serverKey: string;
}

/** Everything stored for a login: one salt and iteration count, a key pair per hash. */
export interface CredentialRecord {
  /** base64 */
  salt: string;
  iterations: number;
  sha256: ScramKeyPair;
  sha1: ScramKeyPair;
}

/** A record with its base64 fields decoded, as the SCRAM exchange and verification use them. */
export interface DecodedScramRecord {
  salt: Uint8Array;
  iterations: number;
  storedKey: Uint8Array;
  serverKey: Uint8Array;
}

export interface ScramKeys {
  saltedPassword: Uint8Array;
  clientKey: Uint8Array;
  storedKey: Uint8Array;
  serverKey: Uint8Array;
}

/** RFC 7677 §4: at least 4096. */
export const SCRAM_MIN_ITERATIONS = 4096;
/** workerd caps PBKDF2 at 100,000 iterations; a record above it could never be verified there. */
export const SCRAM_MAX_ITERATIONS = 100_000;
export const SCRAM_DEFAULT_ITERATIONS = 4096;
/** Salt length of new records (and of the stand-in salt SCRAM shows for unknown logins). */
export const SCRAM_SALT_BYTES = 16;

export function checkScramIterations(iterations: number): void {
  if (
    !Number.isInteger(iterations) ||
    iterations < SCRAM_MIN_ITERATIONS ||
    iterations > SCRAM_MAX_ITERATIONS
  ) {
    throw new AuthError(
      "ERR_SCRAM_ITERATIONS",
      `SCRAM iteration count must be an integer from ${SCRAM_MIN_ITERATIONS} to ${SCRAM_MAX_ITERATIONS}, got ${iterations}`,
    );
  }
}

/**
 * SaltedPassword = Hi(password, salt, i) (PBKDF2-HMAC-<hash>), ClientKey, StoredKey and ServerKey.
 * `normalizedPassword` must already have gone through normalizePassword().
 */
export async function deriveScramKeys(
  normalizedPassword: string,
  salt: Uint8Array,
  iterations: number,
  hash: ScramHash = "SHA-256",
): Promise<ScramKeys> {
  const passwordKey = await crypto.subtle.importKey("raw", utf8(normalizedPassword), "PBKDF2", false, [
    "deriveBits",
  ]);
  const saltedPassword = new Uint8Array(
    await crypto.subtle.deriveBits(
      { name: "PBKDF2", hash, salt, iterations },
      passwordKey,
      SCRAM_HASHES[hash].bytes * 8,
    ),
  );
  const clientKey = await scramHmac(hash, saltedPassword, utf8("Client Key"));
  const [storedKey, serverKey] = await Promise.all([
    scramDigest(hash, clientKey),
    scramHmac(hash, saltedPassword, utf8("Server Key")),
  ]);
  return { saltedPassword, clientKey, storedKey, serverKey };
}

interface RecordOptions {
  iterations?: number;
  salt?: Uint8Array;
}

/** Checks the options and the password; throws AuthError for what an operator must fix. */
function prepare(password: string, options: RecordOptions) {
  const iterations = options.iterations ?? SCRAM_DEFAULT_ITERATIONS;
  checkScramIterations(iterations);
  const normalized = normalizePassword(password);
  if (!normalized.ok) throw new AuthError("ERR_PASSWORD_INVALID", normalized.reason);
  const salt = options.salt ?? crypto.getRandomValues(new Uint8Array(SCRAM_SALT_BYTES));
  if (salt.length === 0) throw new AuthError("ERR_SCRAM_RECORD", "SCRAM salt must not be empty");
  return { password: normalized.value, salt, iterations };
}

async function keyPair(password: string, salt: Uint8Array, iterations: number, hash: ScramHash) {
  const keys = await deriveScramKeys(password, salt, iterations, hash);
  return { storedKey: bytesToBase64(keys.storedKey), serverKey: bytesToBase64(keys.serverKey) };
}

/**
 * Builds the credential stored for a login: SHA-256 and SHA-1 keys from the same password, salt and
 * iteration count. Throws AuthError for a bad iteration count or password.
 */
export async function deriveCredentialRecord(
  password: string,
  options: RecordOptions = {},
): Promise<CredentialRecord> {
  const p = prepare(password, options);
  const [sha256, sha1] = await Promise.all([
    keyPair(p.password, p.salt, p.iterations, "SHA-256"),
    keyPair(p.password, p.salt, p.iterations, "SHA-1"),
  ]);
  return { salt: bytesToBase64(p.salt), iterations: p.iterations, sha256, sha1 };
}

/** Builds the SHA-256 record alone. Throws AuthError for a bad iteration count or password. */
export async function deriveScramRecord(password: string, options: RecordOptions = {}): Promise<ScramRecord> {
  const p = prepare(password, options);
  return {
    mechanism: "SCRAM-SHA-256",
    salt: bytesToBase64(p.salt),
    iterations: p.iterations,
    ...(await keyPair(p.password, p.salt, p.iterations, "SHA-256")),
  };
}

/** The SHA-256 view of a credential record, for verifyPassword() and stores that keep only it. */
export function toScramRecord(record: CredentialRecord): ScramRecord {
  return { mechanism: "SCRAM-SHA-256", salt: record.salt, iterations: record.iterations, ...record.sha256 };
}

function decodeKeys(
  fields: { salt: string; iterations: number; storedKey: string; serverKey: string },
  hash: ScramHash,
): DecodedScramRecord {
  checkScramIterations(fields.iterations);
  const decode = (field: "salt" | "storedKey" | "serverKey"): Uint8Array => {
    try {
      return base64ToBytes(fields[field]);
    } catch {
      throw new AuthError("ERR_SCRAM_RECORD", `credential record ${field} is not base64`);
    }
  };
  const salt = decode("salt");
  const storedKey = decode("storedKey");
  const serverKey = decode("serverKey");
  if (salt.length === 0) throw new AuthError("ERR_SCRAM_RECORD", "credential record salt is empty");
  const bytes = SCRAM_HASHES[hash].bytes;
  if (storedKey.length !== bytes || serverKey.length !== bytes) {
    throw new AuthError("ERR_SCRAM_RECORD", `credential record ${hash} keys are not ${bytes} bytes`);
  }
  return { salt, iterations: fields.iterations, storedKey, serverKey };
}

/** Decodes and checks a stored record. A corrupt row throws (ERR_SCRAM_RECORD / ERR_SCRAM_ITERATIONS). */
export function decodeScramRecord(record: ScramRecord): DecodedScramRecord {
  if (record.mechanism !== "SCRAM-SHA-256") {
    throw new AuthError("ERR_SCRAM_RECORD", "credential record is not SCRAM-SHA-256");
  }
  return decodeKeys(record, "SHA-256");
}

/** The decoded keys of one hash from a credential record. A corrupt record throws like decodeScramRecord. */
export function decodeCredentialRecord(record: CredentialRecord, hash: ScramHash): DecodedScramRecord {
  const pair = hash === "SHA-1" ? record.sha1 : record.sha256;
  return decodeKeys({ salt: record.salt, iterations: record.iterations, ...pair }, hash);
}
