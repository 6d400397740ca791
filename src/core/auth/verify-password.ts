// Password check for PLAIN, LOGIN and HTTP Basic against the SCRAM record: recompute StoredKey
// (RFC 5802 §3) and compare in constant time. Unknown users and unusable passwords do the same
// PBKDF2 work against a dummy record, so timing does not reveal which logins exist.

import { timingSafeEqual } from "./constant-time.ts";
import { normalizePassword } from "./normalize-password.ts";
import {
  decodeScramRecord,
  deriveScramKeys,
  SCRAM_DEFAULT_ITERATIONS,
  type ScramRecord,
} from "./scram-record.ts";

// No password hashes to an all-zero StoredKey, so this record never matches anything.
const DUMMY_RECORD: ScramRecord = {
  mechanism: "SCRAM-SHA-256",
  salt: "cG9zdGVybi1kdW1teS1zYWx0",
  iterations: SCRAM_DEFAULT_ITERATIONS,
  storedKey: "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
  serverKey: "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
};
const DUMMY_PASSWORD = "postern-dummy-password";

/**
 * True when `password` matches `record`. `null` (unknown user) is always false, after the same work.
 * Throws AuthError only for a corrupt stored record.
 */
export async function verifyPassword(record: ScramRecord | null, password: string): Promise<boolean> {
  const { salt, iterations, storedKey } = decodeScramRecord(record ?? DUMMY_RECORD);
  const normalized = normalizePassword(password);
  const keys = await deriveScramKeys(normalized.ok ? normalized.value : DUMMY_PASSWORD, salt, iterations);
  const match = timingSafeEqual(keys.storedKey, storedKey);
  return record !== null && normalized.ok && match;
}
