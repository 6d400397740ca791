// Normalize(str) of RFC 5802 §2.2 is SASLprep (RFC 4013). Until SASLprep lands, this is NFKC (the
// normalization SASLprep uses) plus its prohibition of control characters; ASCII passwords, the
// RFC test vectors among them, come out identical under both. Replace this one function to upgrade;
// every record derivation and verification goes through it.

export type NormalizedPassword = { ok: true; value: string } | { ok: false; reason: string };

const CONTROL = /\p{Cc}/u; // C0, DEL and C1 (RFC 4013 §2.3 via RFC 3454 C.2.1, C.2.2)
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

export function normalizePassword(password: string): NormalizedPassword {
  if (LONE_SURROGATE.test(password)) return { ok: false, reason: "password is not valid Unicode" };
  const value = password.normalize("NFKC");
  if (CONTROL.test(value)) return { ok: false, reason: "password contains a control character" };
  // An empty PBKDF2 key is refused by some WebCrypto implementations, and is never a password.
  if (value.length === 0) return { ok: false, reason: "password is empty" };
  return { ok: true, value };
}
