// The SMTP session's contract with its driver and with the rest of Postern. The session does no
// I/O: the driver feeds it bytes and carries out what it returns (SessionOutput), and everything
// else it needs (SASL, the restriction lists, the queue, time, logs) comes in as a port.
import type { RecipientDecision } from "../../policy/evaluate-recipient.ts";
import type { SmtpReply } from "../../policy/smtp-reply.ts";
import type { Logger } from "../../ports.ts";
import type { MechanismSpec, SaslIdentity, SaslServerContext } from "../../sasl/mechanism.ts";

/** What the driver does, in order: write a reply, wait, upgrade to TLS, or close the connection. */
export type SessionOutput =
  /** Bytes to write: one CRLF-terminated reply, possibly multi-line. */
  | { kind: "reply"; text: string }
  /** Wait this long before carrying out the next output (smtpd_error_sleep_time tarpit). */
  | { kind: "delay"; ms: number }
  /** Write nothing more in plaintext: start TLS, then call tlsStarted() (RFC 3207). */
  | { kind: "starttls" }
  | { kind: "close" };

export interface ClientInfo {
  /** The peer's IP address as the socket reports it. */
  address: string;
  /** Its verified reverse DNS name, or "unknown" (Postfix's spelling). */
  name: string;
}

/** What the driver knows about a TLS session (implicit TLS, or after STARTTLS). */
export interface TlsInfo {
  /** tls-exporter data (RFC 9266) for SCRAM-*-PLUS. */
  channelBinding?: Uint8Array;
  /** The identity of a verified client certificate, for EXTERNAL. */
  peerCertificateIdentity?: string;
}

/** The transport an AUTH exchange runs over. */
export interface AuthTransport {
  tls: boolean;
  channelBinding: { type: "tls-exporter"; data: Uint8Array } | null;
  externalIdentity: string | null;
  client: ClientInfo;
}

export interface AuthPort {
  /** The mechanisms to announce on this transport, strongest first, policy applied. */
  offered(transport: AuthTransport): Promise<readonly MechanismSpec[]>;
  /** A SASL context for one exchange on this transport. */
  context(transport: AuthTransport): SaslServerContext;
  /**
   * The login an authenticated identity submits as, or null when it has no usable account (the
   * exchange then fails with 535). Without it, the authzid is the login.
   */
  login?(identity: SaslIdentity, mechanism: string): Promise<string | null>;
  /** Told of each failed exchange after it is logged (auth.failed events); must not throw. */
  failed?(failure: AuthFailure): void;
}

export interface AuthFailure {
  mechanism: string;
  reason: string;
  /** The login the client named, when the mechanism carries one. */
  login: string | null;
}

export interface SaslLogin {
  username: string;
  method: string;
}

export interface RecipientRequest {
  client: ClientInfo;
  sasl: SaslLogin | null;
  /** '' for the null sender. */
  sender: string;
  recipient: string;
  helo: string;
}

/** Postfix's restriction lists for one recipient (smtpd_delay_reject = yes: sender checks run here). */
export interface PolicyPort {
  recipient(request: RecipientRequest): Promise<RecipientDecision>;
}

export interface EnvelopeRecipient {
  address: string;
  /** DSN NOTIFY= (RFC 3461 §4.1): NEVER, or some of SUCCESS, FAILURE, DELAY. */
  notify: readonly ("NEVER" | "SUCCESS" | "FAILURE" | "DELAY")[] | null;
  /** DSN ORCPT= (RFC 3461 §4.2), xtext decoded: `rfc822;user@example`. */
  orcpt: string | null;
}

export interface Envelope {
  /** Assigned at the first accepted recipient; it is in the Received: header and the log. */
  queueId: string;
  client: ClientInfo;
  helo: string;
  /** RFC 3848 with-protocol of the Received: header. */
  protocol: "SMTP" | "ESMTP" | "ESMTPS" | "ESMTPA" | "ESMTPSA";
  tls: boolean;
  sasl: SaslLogin | null;
  /** '' for the null sender. */
  sender: string;
  recipients: readonly EnvelopeRecipient[];
  body: "7BIT" | "8BITMIME" | null;
  smtputf8: boolean;
  /** DSN RET= and ENVID= (RFC 3461 §4.3, §4.4). */
  ret: "FULL" | "HDRS" | null;
  envid: string | null;
  /** AUTH= of MAIL FROM (RFC 4954 §5) from an authenticated client, '' for AUTH=<>; else null. */
  auth: string | null;
  /** An access table said HOLD / DISCARD for this message (its text). */
  hold: string | null;
  discard: string | null;
}

export type AcceptResult = { ok: true; queueId: string } | { ok: false; reply: SmtpReply };

/**
 * One message being received, streamed to storage as it arrives (AcceptPort.open): the session
 * writes the content (its Received: header first) in order, then either finishes or aborts.
 */
export interface MessageWriter {
  write(bytes: Uint8Array): Promise<void>;
  /** The content is complete (`size` bytes written): store durably and queue, then resolve. */
  finish(envelope: Envelope, size: number): Promise<AcceptResult>;
  /** The message is refused or the client is gone: nothing is queued, what was written goes. */
  abort(): Promise<void>;
}

/** Stores the message durably (and queues it) before it resolves: only then is 250 sent. */
export interface AcceptPort {
  accept(envelope: Envelope, message: Uint8Array): Promise<AcceptResult>;
  /**
   * Streams the message instead (DATA, BDAT): called when its content begins. Without it the
   * session collects the content in memory and calls accept() at its end.
   */
  open?(envelope: Envelope): Promise<MessageWriter>;
}

export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
}

/** Counts events per key in fixed windows (Postfix's anvil): the count including this one. */
export interface RateCounter {
  hit(key: string, windowMs: number): number | Promise<number>;
}

export interface SessionPorts {
  /** SASL; absent: AUTH is neither offered nor accepted. */
  auth?: AuthPort;
  policy: PolicyPort;
  accept: AcceptPort;
  clock: Clock;
  logger: Logger;
  /** smtpd_client_auth_rate_limit counter; absent: no limit. */
  authRate?: RateCounter;
  /** Queue ids; a ULID from the clock by default. */
  queueId?: () => string;
}
