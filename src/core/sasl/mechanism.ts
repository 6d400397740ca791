// The SASL mechanism contract (Postfix's xsasl layer, DESIGN "SASL mechanisms"): a mechanism
// returns a status, never an SMTP code or an HTTP status. The SMTP glue and the HTTP auth layer
// turn statuses into 334/235/535/454/501 or 401/403/503.
//
// Server mechanisms are pure state machines over a JSON-serializable state, so the HTTP SASL
// endpoint can run an exchange statelessly (the state travels in a sealed continuation) and the
// SMTP server can keep it in the session. A mechanism never touches storage directly: it asks the
// CredentialSource and the SaslServerContext.

/** Who authenticated (authcid) and as whom they act (authzid; equal to authcid unless proxying). */
export interface SaslIdentity {
  authcid: string;
  authzid: string;
}

export type SaslStatus =
  /** Send `challenge` (possibly empty) and wait for the next response. */
  | { kind: "more"; challenge: Uint8Array }
  /** Authenticated. `final` is additional data with success (SCRAM's v=), sent with 235 / Authentication-Info. */
  | { kind: "done"; identity: SaslIdentity; final?: Uint8Array }
  /**
   * Authentication failed. `reason` is for the log only (never for the client). `challenge` is an
   * error payload some mechanisms send before failing (OAUTHBEARER's JSON, RFC 7628 §3.2.2): the
   * glue sends it as a challenge, expects the client's dummy response, then fails.
   */
  | { kind: "fail"; reason: string; login?: string; challenge?: Uint8Array }
  /** A temporary failure (a back end is down): 454 4.7.0 / 503. */
  | { kind: "temp"; reason: string; login?: string }
  /** The client's message does not parse: 501 5.5.2 / 400. */
  | { kind: "malformed"; reason: string; login?: string };

/** JSON-serializable state between steps (strings, numbers, booleans, arrays, plain objects). */
export type MechanismState = Record<string, unknown>;

export interface Step {
  status: SaslStatus;
  /** Present with "more": what step() needs next. */
  state?: MechanismState;
}

/** The security properties that *_security_options filter on (Postfix/Dovecot names). */
export interface MechanismProperties {
  /** Sends the password (or an equivalent, like a bearer token) in the clear: noplaintext. */
  plaintext: boolean;
  /** Open to active (non-dictionary) attacks: noactive. */
  active: boolean;
  /** Open to passive dictionary attacks: nodictionary. */
  dictionary: boolean;
  /** Allows anonymous login: noanonymous. */
  anonymous: boolean;
  /** The server proves itself to the client: mutual_auth keeps only these. */
  mutualAuth: boolean;
  /** Keeps past sessions safe if the secret leaks later: forward_secrecy keeps only these. */
  forwardSecrecy: boolean;
  /** Needs channel binding data from the transport (the -PLUS variants). */
  channelBinding: boolean;
  /** Takes its identity from the transport (EXTERNAL: a verified TLS client certificate). */
  external: boolean;
}

/** Per-login secrets a server mechanism may ask for. Unknown or disabled logins give null. */
export interface CredentialSource {
  /** The SCRAM keys for a hash; also used to verify plaintext passwords. */
  scram(login: string, hash: "SHA-1" | "SHA-256"): Promise<ScramServerKeys | null>;
  /** The plaintext-equivalent secret of CRAM-MD5/DIGEST-MD5, for accounts that opted in only. */
  sharedSecret(login: string): Promise<string | null>;
  /** Verifies a password (PLAIN, LOGIN) in constant time, doing the same work for unknown logins. */
  verifyPassword(login: string, password: string): Promise<boolean>;
}

export interface ScramServerKeys {
  salt: Uint8Array;
  iterations: number;
  storedKey: Uint8Array;
  serverKey: Uint8Array;
}

/** What a server mechanism may know about the exchange around it. */
export interface SaslServerContext {
  credentials: CredentialSource;
  /** Applies smtpd_sasl_local_domain and SASLprep to a login as typed. Null: unusable. */
  canonicalLogin(login: string): string | null;
  /** Whether `authcid` may act as `authzid` (PLAIN authzid, SCRAM a=, OAUTHBEARER a=). */
  mayActAs(authcid: string, authzid: string): Promise<boolean>;
  /** Verifies a bearer token (OAUTHBEARER, XOAUTH2); `user` is the login the client claims, if any. */
  verifyBearer(
    token: string,
    claimed: { user: string | null; host: string | null; port: number | null },
  ): Promise<
    { ok: true; login: string } | { ok: false; reason: string; status: "invalid_token" | "invalid_request" }
  >;
  /** The server name for CRAM-MD5's challenge and DIGEST-MD5's realm. */
  hostname: string;
  /** "smtp" or "HTTP": DIGEST-MD5's digest-uri service. */
  service: string;
  /** tls-exporter (RFC 9266) data of this connection, when the transport has it. */
  channelBinding: { type: "tls-exporter"; data: Uint8Array } | null;
  /** The identity from a verified TLS client certificate (EXTERNAL), if any. */
  externalIdentity: string | null;
  /**
   * A per-deployment secret for stand-in values shown for unknown logins (SCRAM's salt), so they
   * cannot be recomputed by someone who reads the code. Absent: a published constant is used.
   */
  standInSecret?: () => Promise<Uint8Array>;
  /** Milliseconds since the epoch; injectable for tests. */
  now(): number;
  random(bytes: number): Uint8Array;
}

export interface ServerMechanism {
  /** Begins an exchange. `initial` is the client's initial response, or null when it sent none. */
  start(ctx: SaslServerContext, initial: Uint8Array | null): Promise<Step>;
  /** Continues from the state of the previous step. */
  step(ctx: SaslServerContext, state: MechanismState, response: Uint8Array): Promise<Step>;
}

/** What a client mechanism needs; each mechanism uses the fields that apply to it. */
export interface ClientCredentials {
  authcid: string;
  /** Empty or equal to authcid: no proxying. */
  authzid?: string;
  password?: string;
  /** OAUTHBEARER / XOAUTH2 access token. */
  token?: string;
  /** OAUTHBEARER's host and port (RFC 7628 §3.1). */
  host?: string;
  port?: number;
  /** Client's channel binding data for -PLUS. */
  channelBinding?: { type: "tls-exporter"; data: Uint8Array } | null;
  /** DIGEST-MD5 digest-uri service and host. */
  service?: string;
}

export type ClientStep =
  | { kind: "respond"; response: Uint8Array }
  /** The exchange is complete from the client's side; `verified` when the server proved itself. */
  | { kind: "done"; verified: boolean }
  | { kind: "fail"; reason: string };

export interface ClientMechanism {
  /** The initial response, or null when the mechanism waits for a first challenge. */
  start(): Promise<Uint8Array | null>;
  /** Answers a server challenge. */
  step(challenge: Uint8Array): Promise<ClientStep>;
  /** Checks the server's additional data on success (SCRAM's v=). */
  finish(final: Uint8Array | null): Promise<ClientStep>;
}

export interface MechanismSpec {
  /** The IANA name. */
  name: string;
  properties: MechanismProperties;
  server: ServerMechanism;
  client(credentials: ClientCredentials, random?: (bytes: number) => Uint8Array): ClientMechanism;
}

/** A mechanism's properties: the named flags set, every other one false. */
export function mechanismProperties(flags: Partial<MechanismProperties>): MechanismProperties {
  return {
    plaintext: false,
    active: false,
    dictionary: false,
    anonymous: false,
    mutualAuth: false,
    forwardSecrecy: false,
    channelBinding: false,
    external: false,
    ...flags,
  };
}
