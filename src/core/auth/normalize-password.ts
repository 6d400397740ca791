// Normalize(str) of RFC 5802 §2.2: SASLprep (RFC 4013) as for a stored string, so unassigned code
// points are refused (RFC 3454 §7) and a password means the same bytes on every later Unicode
// version. Every record derivation and verification goes through this one function.
import { saslprep } from "../sasl/saslprep.ts";

export type NormalizedPassword = { ok: true; value: string } | { ok: false; reason: string };

export function normalizePassword(password: string): NormalizedPassword {
  const prepared = saslprep(password, { allowUnassigned: false });
  if (!prepared.ok) return { ok: false, reason: `password: ${prepared.reason}` };
  // An empty PBKDF2 key is refused by some WebCrypto implementations, and is never a password.
  if (prepared.value.length === 0) return { ok: false, reason: "password is empty" };
  return prepared;
}
