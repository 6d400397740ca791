export {
  DEFAULT_MAX_LINE_BYTES,
  DEFAULT_TIMEOUT_MS,
  DovecotAuthClient,
  type DovecotAuthClientOptions,
  type DovecotStartOptions,
  type DovecotStep,
  UNAVAILABLE,
} from "./dovecot-auth-client.ts";
export type { DovecotAuthParams } from "./format-request.ts";
export type { DovecotHandshake } from "./handshake-parser.ts";
export type { DovecotMechanism } from "./mechanism-flags.ts";
export { parseSaslPath, type SaslPath } from "./parse-sasl-path.ts";
export { splitTabEscaped, tabEscape, tabUnescape } from "./tab-escape.ts";
