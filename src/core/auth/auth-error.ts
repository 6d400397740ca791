// Thrown for operator-side problems (bad configuration, corrupt stored records, undecryptable
// secrets). What a client sends never throws: a wrong password or a bad header is a value.

export type AuthErrorCode =
  | "ERR_PASSWORD_INVALID"
  | "ERR_SCRAM_ITERATIONS"
  | "ERR_SCRAM_RECORD"
  | "ERR_SECRET_KEYRING"
  | "ERR_SECRET_FORMAT"
  | "ERR_SECRET_KEY"
  | "ERR_SECRET_INTEGRITY";

export class AuthError extends Error {
  readonly code: AuthErrorCode;
  /** None of these go away by retrying: they need an operator. */
  readonly transient = false;
  constructor(code: AuthErrorCode, message: string) {
    super(message);
    this.name = "AuthError";
    this.code = code;
  }
}
