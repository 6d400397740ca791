// The mechanisms that need an account's sealed shared secret (accounts opt in). Many SMTP clients
// take the strongest-looking mechanism offered and do not fall back (curl tries DIGEST-MD5, then
// CRAM-MD5, before PLAIN), so an SMTP front offers these only while some account keeps a secret.
const SHARED_SECRET_MECHANISMS = new Set(["CRAM-MD5", "DIGEST-MD5"]);

/** The names without CRAM-MD5 and DIGEST-MD5. */
export function withoutSharedSecretMechanisms(names: readonly string[]): string[] {
  return names.filter((name) => !SHARED_SECRET_MECHANISMS.has(name.toUpperCase()));
}
