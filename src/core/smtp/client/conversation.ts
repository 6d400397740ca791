// The wire under a relay session: writes and replies with timeouts, turned into Postfix's words
// when they fail ("lost connection with H[A] while sending RCPT TO"). The first failure breaks the
// conversation for good: every later call returns it, so a session cannot half-continue.
import type { Socket } from "../../net/socket.ts";
import { LineReader } from "../line-reader.ts";
import { type Reply, readReply, renderReply } from "../reply.ts";
import { withTimeout } from "../with-timeout.ts";

/** What the client was doing, as Postfix's smtp_proto.c names it in "while ..." and "in reply to ...". */
export const STAGES = {
  greeting: { doing: "receiving the initial server greeting", command: "greeting" },
  ehlo: { doing: "sending EHLO", command: "EHLO" },
  helo: { doing: "sending HELO", command: "HELO" },
  lhlo: { doing: "sending LHLO", command: "LHLO" },
  starttls: { doing: "sending STARTTLS", command: "STARTTLS" },
  auth: { doing: "sending AUTH data", command: "AUTH" },
  mail: { doing: "sending MAIL FROM", command: "MAIL FROM" },
  rcpt: { doing: "sending RCPT TO", command: "RCPT TO" },
  data: { doing: "sending DATA command", command: "DATA" },
  body: { doing: "sending message body", command: "end of DATA" },
  dot: { doing: "sending end of data -- message may be sent more than once", command: "end of DATA" },
  rset: { doing: "sending RSET", command: "RSET" },
  quit: { doing: "sending QUIT", command: "QUIT" },
} as const;

export type Stage = keyof typeof STAGES;

/** A failure of the conversation itself (not a reply): every pending recipient is deferred. */
export interface Failure {
  reason: string;
  dsn: string;
}

export type Exchange = { ok: true; reply: Reply } | { ok: false; failure: Failure };

const CLOSE_TIMEOUT = 10_000;
const encoder = new TextEncoder();

export class Conversation {
  /** `host[address]` as Postfix shows the peer. */
  readonly peer: string;
  #socket: Socket;
  #reader: LineReader;
  #broken: Failure | null = null;

  constructor(socket: Socket, peer: string) {
    this.#socket = socket;
    this.#reader = new LineReader(socket);
    this.peer = peer;
  }

  get secure(): boolean {
    return this.#socket.secure;
  }

  get broken(): Failure | null {
    return this.#broken;
  }

  async write(bytes: Uint8Array, stage: Stage, timeoutMs: number): Promise<Failure | null> {
    if (this.#broken) return this.#broken;
    try {
      const written = await withTimeout(this.#socket.write(bytes), timeoutMs);
      if (written.timedOut) return this.abandon(this.#timedOut(stage));
      return null;
    } catch {
      return this.abandon(this.#lost(stage));
    }
  }

  /** Writes command lines; each gets its CRLF. */
  command(lines: string | readonly string[], stage: Stage, timeoutMs: number): Promise<Failure | null> {
    const text = typeof lines === "string" ? `${lines}\r\n` : lines.map((line) => `${line}\r\n`).join("");
    return this.write(encoder.encode(text), stage, timeoutMs);
  }

  async reply(stage: Stage, timeoutMs: number): Promise<Exchange> {
    if (this.#broken) return { ok: false, failure: this.#broken };
    const read = await readReply(this.#reader, timeoutMs);
    // A concurrent (pipelined) write may have failed first: its account wins.
    if (this.#broken) return { ok: false, failure: this.#broken };
    if (read.ok) return read;
    const { doing } = STAGES[stage];
    switch (read.failure) {
      case "timeout":
        return { ok: false, failure: this.abandon(this.#timedOut(stage)) };
      case "lost":
        return { ok: false, failure: this.abandon(this.#lost(stage)) };
      case "malformed":
        return {
          ok: false,
          failure: this.abandon({
            reason: `host ${this.peer} sent a malformed reply while ${doing}: ${read.detail}`,
            dsn: "4.5.0",
          }),
        };
      case "too-long":
        return {
          ok: false,
          failure: this.abandon({
            reason: `host ${this.peer} sent a reply of ${read.detail} while ${doing}`,
            dsn: "4.5.0",
          }),
        };
    }
  }

  /** Writes a command and reads its reply (no pipelining). */
  async exchange(line: string, stage: Stage, timeoutMs: number): Promise<Exchange> {
    const failed = await this.command(line, stage, timeoutMs);
    if (failed) return { ok: false, failure: failed };
    return this.reply(stage, timeoutMs);
  }

  /**
   * Upgrades after a 220 to STARTTLS. Anything the server sent after its 220 is dropped with the
   * old reader (RFC 3207 §6: a man in the middle may have injected it).
   */
  async startTls(timeoutMs: number): Promise<Failure | null> {
    if (this.#broken) return this.#broken;
    const upgrading = this.#socket.startTls();
    try {
      const upgraded = await withTimeout(upgrading, timeoutMs);
      if (upgraded.timedOut) {
        upgrading.then((late) => late.close()).catch(() => {});
        return this.abandon(this.#timedOut("starttls"));
      }
      this.#socket = upgraded.value;
      this.#reader = new LineReader(upgraded.value);
      return null;
    } catch {
      // Postfix's text; the handshake error itself is the TLS layer's to log.
      return this.abandon({ reason: "Cannot start TLS: handshake failure", dsn: "4.7.5" });
    }
  }

  /** Postfix's account of a reply: `host H[A] said: 550 5.1.1 ... (in reply to RCPT TO command)`. */
  said(reply: Reply, stage: Stage): string {
    return `host ${this.peer} said: ${renderReply(reply)} (in reply to ${STAGES[stage].command} command)`;
  }

  /** Gives up on the connection with this account of why (the first one given stands). */
  abandon(failure: Failure): Failure {
    if (!this.#broken) {
      this.#broken = failure;
      this.#socket.close().catch(() => {});
    }
    return this.#broken;
  }

  async close(): Promise<void> {
    this.#broken ??= { reason: `connection with ${this.peer} was closed`, dsn: "4.4.2" };
    await withTimeout(this.#socket.close(), CLOSE_TIMEOUT).catch(() => {});
  }

  #timedOut(stage: Stage): Failure {
    return { reason: `conversation with ${this.peer} timed out while ${STAGES[stage].doing}`, dsn: "4.4.2" };
  }

  #lost(stage: Stage): Failure {
    return { reason: `lost connection with ${this.peer} while ${STAGES[stage].doing}`, dsn: "4.4.2" };
  }
}
