// The state of one SMTP session and the few verbs every stage uses: reply (with Postfix's error
// counting and tarpit), close, log. The stages (helo.ts, auth.ts, mail.ts ...) change this state;
// smtp-session.ts reads input and dispatches. Nothing here does I/O: replies collect as outputs.
import { matchNetwork } from "../../policy/network-list.ts";
import { printable } from "../../printable.ts";
import type { DataReader } from "./data-reader.ts";
import { InputBuffer } from "./input-buffer.ts";
import type { MessageContent } from "./message-content.ts";
import { formatReply, type ServerReply } from "./replies.ts";
import type { BareNewlineMode, SessionConfig } from "./session-config.ts";
import type {
  AuthTransport,
  ClientInfo,
  Envelope,
  EnvelopeRecipient,
  SaslLogin,
  SessionOutput,
  SessionPorts,
  TlsInfo,
} from "./session-ports.ts";

/** An AUTH exchange waiting for the client's next response line (auth.ts). */
export interface AuthExchange {
  readonly mechanism: string;
  /** The client's response line, "*" and over-long lines already handled. */
  respond(line: string): Promise<void>;
}

/** A BDAT chunk being read (RFC 3030): its bytes follow the command line at once. */
export interface BdatChunk {
  remaining: number;
  size: number;
  last: boolean;
  /** The reply once the chunk is read, when the command was refused: the bytes are skipped. */
  refusal: ServerReply | null;
}

export type InputMode =
  | { kind: "command" }
  | { kind: "auth"; exchange: AuthExchange }
  | { kind: "data"; reader: DataReader }
  | { kind: "bdat"; chunk: BdatChunk }
  /** STARTTLS was answered: plaintext that still arrives is dropped until tlsStarted(). */
  | { kind: "tls-wait" }
  | { kind: "closed" };

export type Transaction = Omit<
  Envelope,
  "queueId" | "recipients" | "client" | "helo" | "protocol" | "tls" | "sasl"
> & {
  /** Assigned when the first recipient is accepted (Postfix opens the queue file then). */
  queueId: string | null;
  recipients: EnvelopeRecipient[];
  /** BDAT progress; null until the first BDAT. */
  bdat: BdatContent | null;
  /** The message being stored (DATA, or BDAT's first accepted chunk); null before. */
  content: MessageContent | null;
};

export interface BdatContent {
  /** Bytes of the chunks accepted so far. */
  size: number;
  /** Set when a chunk was refused: every later chunk gets this reply, up to LAST. */
  error: ServerReply | null;
  /** The last chunk ended in CR (a CRLF may span two chunks). */
  endsInCr: boolean;
}

// The order of Postfix's disconnect line.
const STATS_ORDER = [
  "helo",
  "ehlo",
  "starttls",
  "auth",
  "mail",
  "rcpt",
  "data",
  "bdat",
  "rset",
  "noop",
  "vrfy",
  "help",
  "quit",
  "unknown",
] as const;

export class SessionCore {
  readonly config: SessionConfig;
  readonly ports: SessionPorts;
  readonly client: ClientInfo;
  /** The listener has a certificate: STARTTLS can be offered. */
  readonly tlsAvailable: boolean;
  readonly input = new InputBuffer();
  mode: InputMode = { kind: "command" };
  /** The driver called greet(): input before it is early talk. */
  greeted = false;
  helo: { name: string; esmtp: boolean } | null = null;
  tls: TlsInfo | null;
  sasl: SaslLogin | null = null;
  transaction: Transaction | null = null;
  /** Postfix's error_count: failed commands since the last delivered message. */
  errors = 0;
  /** The command the client is in, for "lost connection after DATA" style log lines. */
  where = "CONNECT";
  #outputs: SessionOutput[] = [];
  #current: { name: string; ok: boolean } | null = null;
  readonly #stats = new Map<string, { ok: number; total: number }>();
  #disconnectLogged = false;
  /** Contents being dropped (a transaction ended without its message): settle() waits for them. */
  #aborts: Promise<void>[] = [];

  constructor(
    config: SessionConfig,
    ports: SessionPorts,
    client: ClientInfo,
    tls: TlsInfo | null,
    tlsAvailable: boolean,
  ) {
    this.config = config;
    this.ports = ports;
    this.client = client;
    this.tls = tls;
    this.tlsAvailable = tlsAvailable;
  }

  /** `host[addr]`, as every Postfix log line names the client. */
  get peer(): string {
    return `${this.client.name}[${this.client.address}]`;
  }

  get closed(): boolean {
    return this.mode.kind === "closed";
  }

  /** The client may pipeline (RFC 2920): it said EHLO and so was told PIPELINING. */
  get pipelining(): boolean {
    return this.helo?.esmtp === true;
  }

  /** smtpd_forbid_bare_newline for this client (its exclusions turn it off). */
  get bareNewline(): BareNewlineMode {
    if (matchNetwork(this.config.forbidBareNewlineExclusions, this.client.address)) return "no";
    return this.config.forbidBareNewline;
  }

  /** smtpd_tls_security_level = encrypt and no TLS yet: only pre-TLS commands may run. */
  get tlsRequired(): boolean {
    return this.config.tlsSecurityLevel === "encrypt" && this.tls === null;
  }

  /** What Postfix logs as proto=: SMTP after HELO, ESMTP after EHLO. */
  get logProtocol(): "SMTP" | "ESMTP" {
    return this.helo?.esmtp ? "ESMTP" : "SMTP";
  }

  /** RFC 3848 with-protocol: ESMTP plus S for TLS and A for AUTH. */
  get receivedProtocol(): Envelope["protocol"] {
    const tls = this.tls !== null;
    const auth = this.sasl !== null;
    if (!this.helo?.esmtp && !tls && !auth) return "SMTP";
    return `ESMTP${tls ? "S" : ""}${auth ? "A" : ""}` as Envelope["protocol"];
  }

  authTransport(): AuthTransport {
    const channelBinding = this.tls?.channelBinding;
    return {
      tls: this.tls !== null,
      channelBinding: channelBinding ? { type: "tls-exporter", data: channelBinding } : null,
      externalIdentity: this.tls?.peerCertificateIdentity ?? null,
      client: this.client,
    };
  }

  /** Sends a reply; past smtpd_soft_error_limit every reply waits smtpd_error_sleep_time first. */
  reply(serverReply: ServerReply): void {
    if (this.errors > this.config.softErrorLimit && this.config.errorSleepMs > 0) {
      this.#outputs.push({ kind: "delay", ms: this.config.errorSleepMs });
    }
    this.#outputs.push({ kind: "reply", text: formatReply(serverReply) });
    // Postfix counts a command that failed; its 4XX/5XX reply is how it failed.
    if (serverReply.code >= 400) this.errors++;
    if (this.#current) this.#current.ok = serverReply.code < 400;
  }

  output(output: SessionOutput): void {
    this.#outputs.push(output);
  }

  takeOutputs(): SessionOutput[] {
    const outputs = this.#outputs;
    this.#outputs = [];
    return outputs;
  }

  /** Ends the session from this side: the driver closes the connection after the last reply. */
  close(): void {
    if (this.closed) return;
    this.#outputs.push({ kind: "close" });
    this.mode = { kind: "closed" };
    this.input.clear();
    this.resetTransaction();
    this.logDisconnect();
  }

  /** A command begins: the previous one is counted for the disconnect line. */
  beginCommand(name: string): void {
    this.endCommand();
    this.#current = { name, ok: true };
    this.where = name.toUpperCase();
  }

  /** The command in progress is over; `failed` when it ended without a reply (lost connection). */
  endCommand(failed = false): void {
    const current = this.#current;
    if (!current) return;
    this.#current = null;
    const stat = this.#stats.get(current.name) ?? { ok: 0, total: 0 };
    stat.total++;
    if (current.ok && !failed) stat.ok++;
    this.#stats.set(current.name, stat);
  }

  /** Ends the transaction; a message it was storing is dropped (see settle()). */
  resetTransaction(): void {
    const content = this.transaction?.content;
    this.transaction = null;
    if (content) this.#aborts.push(content.abort());
  }

  /** Drops the message being stored, keeping the transaction (a refused BDAT chunk). */
  dropContent(): void {
    const content = this.transaction?.content;
    if (!content) return;
    this.transaction!.content = null;
    this.#aborts.push(content.abort());
  }

  /** Waits until the contents dropped so far are gone from storage. */
  async settle(): Promise<void> {
    while (this.#aborts.length > 0) {
      const aborts = this.#aborts;
      this.#aborts = [];
      await Promise.all(aborts);
    }
  }

  info(line: string): void {
    this.ports.logger.info(line);
  }

  warn(line: string): void {
    this.ports.logger.warn(line);
  }

  /** Postfix's `disconnect from host[addr] ehlo=1 mail=1 ... commands=N` (once). */
  logDisconnect(): void {
    if (this.#disconnectLogged) return;
    this.#disconnectLogged = true;
    this.endCommand();
    const counts = (ok: number, total: number) => (ok === total ? `${total}` : `${ok}/${total}`);
    let ok = 0;
    let total = 0;
    const parts: string[] = [];
    for (const name of STATS_ORDER) {
      const stat = this.#stats.get(name);
      if (!stat) continue;
      ok += stat.ok;
      total += stat.total;
      parts.push(`${name}=${counts(stat.ok, stat.total)}`);
    }
    parts.push(`commands=${counts(ok, total)}`);
    this.info(`disconnect from ${this.peer} ${parts.join(" ")}`);
  }

  /** Log-safe text the client sent. */
  printable(text: string, max?: number): string {
    return printable(text, max);
  }
}
