// The only I/O contract the core knows. Implemented once for Workers `connect()` and once for
// node:net/node:tls; both pass the same contract tests.

export interface Socket {
  /** Next chunk of bytes, or null at end of stream. Rejects on a reset or a timeout of the transport. */
  read(): Promise<Uint8Array | null>;
  write(bytes: Uint8Array): Promise<void>;
  /**
   * Upgrades to TLS (RFC 3207) and returns the new socket; this one must not be used afterwards.
   * Bytes buffered before the upgrade are dropped (RFC 3207 §6).
   */
  startTls(): Promise<Socket>;
  close(): Promise<void>;
  /** True once the bytes on this socket travel inside TLS. */
  readonly secure: boolean;
}

/** How to open a connection: plaintext, implicit TLS (`on`, port 465) or plaintext able to STARTTLS. */
export type TlsMode = "off" | "on" | "starttls";

export interface ConnectOptions {
  host: string;
  port: number;
  tls: TlsMode;
  /** A UNIX-domain socket instead of host:port (Node only; Workers refuse it). */
  path?: string;
  /**
   * TLS must present a certificate that chains to a trusted CA and names `host` (Postfix's
   * verify/secure levels); otherwise any certificate is taken (may/encrypt), where the runtime
   * allows it. Absent: the runtime's default (Node and Workers both verify).
   */
  verify?: boolean;
  /** Trusted CAs for `verify` (smtp_tls_CAfile, a PEM file): Node only. */
  caFile?: string;
}

/** Opens a connection. Rejects with a ConnectError whose message says why, in Postfix's words. */
export type Connect = (options: ConnectOptions) => Promise<Socket>;

export class ConnectError extends Error {
  readonly code: string;
  /** Transient failures are retried; permanent ones (a forbidden port) are not worth retrying soon. */
  readonly transient: boolean;
  constructor(message: string, code: string, transient = true) {
    super(message);
    this.name = "ConnectError";
    this.code = code;
    this.transient = transient;
  }
}
