export { ADMIN_TOKEN_MIN_LENGTH, checkAdminToken } from "./admin-token.ts";
export { AuthError, type AuthErrorCode } from "./auth-error.ts";
export { BASIC_CREDENTIALS_LIMIT, type BasicCredentials, parseBasicAuthorization } from "./basic.ts";
export { timingSafeEqual } from "./constant-time.ts";
export {
  formatScramAuthenticationInfo,
  formatScramChallenge,
  HTTP_SCRAM_LIMIT,
  type HttpScramScheme,
  parseScramAuthorization,
  type ScramAuthorization,
} from "./http-scram.ts";
export { type NormalizedPassword, normalizePassword } from "./normalize-password.ts";
export { SCRAM_HASHES, type ScramHash, scramDigest, scramHmac } from "./scram-hash.ts";
export {
  type CredentialRecord,
  checkScramIterations,
  type DecodedScramRecord,
  decodeCredentialRecord,
  decodeScramRecord,
  deriveCredentialRecord,
  deriveScramKeys,
  deriveScramRecord,
  SCRAM_DEFAULT_ITERATIONS,
  SCRAM_MAX_ITERATIONS,
  SCRAM_MIN_ITERATIONS,
  SCRAM_SALT_BYTES,
  type ScramKeyPair,
  type ScramKeys,
  type ScramRecord,
  toScramRecord,
} from "./scram-record.ts";
export { isSealed, type KeyRing, openSecret, parseKeyRing, sealedKeyId, sealSecret } from "./secret-box.ts";
export { verifyPassword } from "./verify-password.ts";
