export { COMMANDS, type CommandSpec } from "./commands.ts";
export { type DataProgress, DataReader } from "./data-reader.ts";
export { memoryRateCounter } from "./memory-rate-counter.ts";
export { type ReceivedInput, receivedHeader } from "./received-header.ts";
export { formatReply, REPLIES, type ServerReply } from "./replies.ts";
export { restrictionPolicy } from "./restriction-policy.ts";
export { type SaslAuthPortOptions, saslAuthPort } from "./sasl-auth-port.ts";
export {
  type BareNewlineMode,
  type SessionConfig,
  SMTPD_PARAMETERS,
  type SmtpdParameterName,
  sessionConfig,
  type TlsSecurityLevel,
} from "./session-config.ts";
export type {
  AcceptPort,
  AcceptResult,
  AuthPort,
  AuthTransport,
  ClientInfo,
  Clock,
  Envelope,
  EnvelopeRecipient,
  MessageWriter,
  PolicyPort,
  RateCounter,
  RecipientRequest,
  SaslLogin,
  SessionOutput,
  SessionPorts,
  TlsInfo,
} from "./session-ports.ts";
export { SmtpSession, type SmtpSessionOptions } from "./smtp-session.ts";
