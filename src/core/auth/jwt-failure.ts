// jose's errors turned into short, fixed reasons that are safe to log and to hand to a client.
// jose's own messages and errors carry the claims set (and a claim may hold anything the token's
// author wrote), so nothing from the error text or the token is passed through.

import { errors } from "jose";

export interface JwtFailure {
  reason: string;
  /** The verifier could not decide (the issuer's key set is unreachable): 454 / 503, not 535 / 401. */
  transient: boolean;
}

// Claims jose checks with the options Postern passes; anything else gets the generic text.
const CLAIM_REASONS: Record<string, string> = {
  aud: "wrong audience",
  iss: "wrong issuer",
  nbf: "token not yet valid",
  exp: "bad exp",
  iat: "bad iat",
  sub: "bad sub",
  typ: "wrong token type",
};

export function describeJwtFailure(error: unknown): JwtFailure {
  const reject = (reason: string): JwtFailure => ({ reason, transient: false });
  if (error instanceof errors.JWTExpired) return reject("token expired");
  if (error instanceof errors.JWTClaimValidationFailed) {
    if (error.reason === "missing" && /^[a-z]{2,4}$/.test(error.claim))
      return reject(`missing ${error.claim}`);
    return reject(CLAIM_REASONS[error.claim] ?? "claim check failed");
  }
  if (error instanceof errors.JOSEAlgNotAllowed) return reject("algorithm not allowed");
  if (error instanceof errors.JOSENotSupported) return reject("algorithm not allowed");
  if (error instanceof errors.JWSSignatureVerificationFailed) return reject("signature invalid");
  if (error instanceof errors.JWKSNoMatchingKey) return reject("unknown signing key");
  if (error instanceof errors.JWKSMultipleMatchingKeys) return reject("signature invalid");
  if (error instanceof errors.JWTInvalid || error instanceof errors.JWSInvalid)
    return reject("malformed token");
  if (error instanceof errors.JWKInvalid) return reject("signing key unusable");
  // The rest come from fetching the key set: timeouts, non-200, bad JSON, network errors.
  return { reason: "key set unavailable", transient: true };
}
