// The one stored credential (DESIGN: Credentials): SCRAM-SHA-256 keys per RFC 5802 §3 and RFC 7677.
// It verifies SCRAM directly and PLAIN, LOGIN and HTTP Basic by recomputing StoredKey, so no
// plaintext-equivalent secret is kept.

import { base64ToBytes, bytesToBase64 } from "../encoding/base64.ts";
import { AuthError } from "./auth-error.ts";
import { hmacSha256, sha256, utf8 } from "./digest.ts";
import { normalizePassword } from "./normalize-password.ts";

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
const SALT_BYTES = 16;
const KEY_BYTES = 32; // SHA-256 output

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
 * SaltedPassword = Hi(password, salt, i) (PBKDF2-HMAC-SHA-256), ClientKey, StoredKey and ServerKey.
 * `normalizedPassword` must already have gone through normalizePassword().
 */
export async function deriveScramKeys(
  normalizedPassword: string,
  salt: Uint8Array,
  iterations: number,
): Promise<ScramKeys> {
  const passwordKey = await crypto.subtle.importKey("raw", utf8(normalizedPassword), "PBKDF2", false, [
    "deriveBits",
  ]);
  const saltedPassword = new Uint8Array(
    await crypto.subtle.deriveBits(
      { name: "PBKDF2", hash: "SHA-256", salt, iterations },
      passwordKey,
      KEY_BYTES * 8,
    ),
  );
  const clientKey = await hmacSha256(saltedPassword, utf8("Client Key"));
  const [storedKey, serverKey] = await Promise.all([
    sha256(clientKey),
    hmacSha256(saltedPassword, utf8("Server Key")),
  ]);
  return { saltedPassword, clientKey, storedKey, serverKey };
}

/** Builds the record stored for a login. Throws AuthError for a bad iteration count or password. */
export async function deriveScramRecord(
  password: string,
  options: { iterations?: number; salt?: Uint8Array } = {},
): Promise<ScramRecord> {
  const iterations = options.iterations ?? SCRAM_DEFAULT_ITERATIONS;
  checkScramIterations(iterations);
  const normalized = normalizePassword(password);
  if (!normalized.ok) throw new AuthError("ERR_PASSWORD_INVALID", normalized.reason);
  const salt = options.salt ?? crypto.getRandomValues(new Uint8Array(SALT_BYTES));
  if (salt.length === 0) throw new AuthError("ERR_SCRAM_RECORD", "SCRAM salt must not be empty");
  const keys = await deriveScramKeys(normalized.value, salt, iterations);
  return {
    mechanism: "SCRAM-SHA-256",
    salt: bytesToBase64(salt),
    iterations,
    storedKey: bytesToBase64(keys.storedKey),
    serverKey: bytesToBase64(keys.serverKey),
  };
}

/** Decodes and checks a stored record. A corrupt row throws (ERR_SCRAM_RECORD / ERR_SCRAM_ITERATIONS). */
export function decodeScramRecord(record: ScramRecord): DecodedScramRecord {
  if (record.mechanism !== "SCRAM-SHA-256") {
    throw new AuthError("ERR_SCRAM_RECORD", "credential record is not SCRAM-SHA-256");
  }
  checkScramIterations(record.iterations);
  const decode = (field: "salt" | "storedKey" | "serverKey"): Uint8Array => {
    try {
      return base64ToBytes(record[field]);
    } catch {
      throw new AuthError("ERR_SCRAM_RECORD", `credential record ${field} is not base64`);
    }
  };
  const salt = decode("salt");
  const storedKey = decode("storedKey");
  const serverKey = decode("serverKey");
  if (salt.length === 0) throw new AuthError("ERR_SCRAM_RECORD", "credential record salt is empty");
  if (storedKey.length !== KEY_BYTES || serverKey.length !== KEY_BYTES) {
    throw new AuthError("ERR_SCRAM_RECORD", "credential record keys are not 32 bytes");
  }
  return { salt, iterations: record.iterations, storedKey, serverKey };
}
