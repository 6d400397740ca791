export { ADMIN_TOKEN_MIN_LENGTH, checkAdminToken } from "./admin-token.ts";
export { AuthError, type AuthErrorCode } from "./auth-error.ts";
export { BASIC_CREDENTIALS_LIMIT, type BasicCredentials, parseBasicAuthorization } from "./basic.ts";
export { timingSafeEqual } from "./constant-time.ts";
export { type NormalizedPassword, normalizePassword } from "./normalize-password.ts";
export {
  checkScramIterations,
  type DecodedScramRecord,
  decodeScramRecord,
  deriveScramKeys,
  deriveScramRecord,
  SCRAM_DEFAULT_ITERATIONS,
  SCRAM_MAX_ITERATIONS,
  SCRAM_MIN_ITERATIONS,
  type ScramKeys,
  type ScramRecord,
} from "./scram-record.ts";
export { isSealed, type KeyRing, openSecret, parseKeyRing, sealedKeyId, sealSecret } from "./secret-box.ts";
export { verifyPassword } from "./verify-password.ts";
