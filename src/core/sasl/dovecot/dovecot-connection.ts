// One connection to the Dovecot auth service: the handshake, then any number of requests in
// flight at once, each reply routed to its request by id. A read loop runs for the life of the
// connection, so a server that goes away is noticed at once rather than at the next request.
import type { Socket } from "../../net/socket.ts";
import { printable } from "../../printable.ts";
import { withTimeout } from "../../smtp/with-timeout.ts";
import { formatHello } from "./format-request.ts";
import { type DovecotHandshake, HandshakeParser } from "./handshake-parser.ts";
import { LineSplitter } from "./line-splitter.ts";
import { type DovecotReply, parseReply } from "./parse-reply.ts";
import { splitTabEscaped } from "./tab-escape.ts";

export interface ConnectionOptions {
  /** Our process id for CPID (Dovecot wants one, non-zero). */
  pid: number;
  /** For the handshake here; for each reply in request(). */
  timeoutMs: number;
  maxLineBytes: number;
}

export type ReplyOutcome =
  | { kind: "reply"; reply: DovecotReply }
  /** The request never left: the connection was already gone or the write failed. */
  | { kind: "unsent"; why: string }
  /** The connection went away (or turned out broken) before the reply came. */
  | { kind: "lost"; why: string }
  | { kind: "timeout" };

export type Opened = { ok: true; connection: DovecotConnection } | { ok: false; reason: string };

type Waiter = { resolve: (outcome: ReplyOutcome) => void; timer: ReturnType<typeof setTimeout> };

const encoder = new TextEncoder();

export class DovecotConnection {
  readonly #socket: Socket;
  readonly #splitter: LineSplitter;
  readonly #waiters = new Map<number, Waiter>();
  #parser: HandshakeParser | null = new HandshakeParser();
  #handshake: DovecotHandshake | null = null;
  #ready: ((result: Opened) => void) | null = null;
  #lost: string | null = null;

  private constructor(socket: Socket, maxLineBytes: number) {
    this.#socket = socket;
    this.#splitter = new LineSplitter(maxLineBytes);
  }

  /** Greets the server and waits for its DONE. The socket is closed unless this succeeds. */
  static async open(socket: Socket, options: ConnectionOptions): Promise<Opened> {
    const connection = new DovecotConnection(socket, options.maxLineBytes);
    const ready = new Promise<Opened>((resolve) => {
      connection.#ready = resolve;
    });
    void connection.#pump();
    // The greeting is pipelined: the server sends its half without waiting for ours.
    await connection.#send(formatHello(options.pid));
    const opened = await withTimeout(ready, options.timeoutMs);
    if (opened.timedOut) {
      const why = connection.#parser?.looksLikeMasterSocket
        ? "handshake timed out after SPID without MECH lines: is this the auth-master or auth-userdb socket?"
        : "handshake timed out";
      connection.#lose(why);
      return { ok: false, reason: why };
    }
    return opened.value;
  }

  get alive(): boolean {
    return this.#lost === null;
  }

  get handshake(): DovecotHandshake {
    if (!this.#handshake) throw new Error("DovecotConnection used before its handshake");
    return this.#handshake;
  }

  /** Sends a request line and waits up to timeoutMs for the reply with this id. */
  async request(id: number, line: string, timeoutMs: number): Promise<ReplyOutcome> {
    if (this.#lost !== null) return { kind: "unsent", why: this.#lost };
    if (this.#waiters.has(id)) throw new Error(`Dovecot request ${id} is already waiting for a reply`);
    const outcome = new Promise<ReplyOutcome>((resolve) => {
      const timer = setTimeout(() => {
        this.#waiters.delete(id);
        resolve({ kind: "timeout" });
      }, timeoutMs);
      this.#waiters.set(id, { resolve, timer });
    });
    const failed = await this.#send(line);
    if (failed !== null) return { kind: "unsent", why: failed };
    return outcome;
  }

  /** A line that wants no reply (CANCEL). Best effort: a dead connection is already handled. */
  async notify(line: string): Promise<void> {
    if (this.#lost === null) await this.#send(line);
  }

  async close(): Promise<void> {
    this.#lose("closed");
    await this.#socket.close().catch(() => {});
  }

  /** Null when written; otherwise why not (and the connection is lost). */
  async #send(line: string): Promise<string | null> {
    try {
      await this.#socket.write(encoder.encode(line));
      return null;
    } catch (error) {
      const why = `write failed: ${describe(error)}`;
      this.#lose(why);
      return this.#lost ?? why;
    }
  }

  async #pump(): Promise<void> {
    for (;;) {
      let chunk: Uint8Array | null;
      try {
        chunk = await this.#socket.read();
      } catch (error) {
        this.#lose(`read failed: ${describe(error)}`);
        return;
      }
      if (this.#lost !== null) return;
      if (chunk === null) {
        this.#lose(
          this.#parser?.looksLikeMasterSocket
            ? "closed after SPID without MECH lines: wrong socket (auth-master?)"
            : "connection closed by the server",
        );
        return;
      }
      const { lines, overflow } = this.#splitter.push(chunk);
      for (const line of lines) {
        this.#line(line);
        if (this.#lost !== null) return;
      }
      if (overflow) {
        this.#lose("line too long");
        return;
      }
    }
  }

  #line(line: string): void {
    if (this.#parser) {
      const progress = this.#parser.feed(splitTabEscaped(line));
      if (progress.kind === "error") this.#lose(progress.reason);
      else if (progress.kind === "done") {
        this.#parser = null;
        this.#handshake = progress.handshake;
        this.#ready?.({ ok: true, connection: this });
        this.#ready = null;
      }
      return;
    }
    const parsed = parseReply(line);
    if (parsed.kind === "garbage") {
      this.#lose(`protocol error: ${parsed.reason}: ${printable(line, 100)}`);
      return;
    }
    if (parsed.kind === "other") return;
    // A reply nobody waits for (its request timed out or was cancelled) is dropped.
    const waiter = this.#waiters.get(parsed.id);
    if (!waiter) return;
    this.#waiters.delete(parsed.id);
    clearTimeout(waiter.timer);
    waiter.resolve({ kind: "reply", reply: parsed });
  }

  /** The first reason stands; every waiter hears it and the socket is let go. */
  #lose(why: string): void {
    if (this.#lost !== null) return;
    this.#lost = why;
    this.#ready?.({ ok: false, reason: why });
    this.#ready = null;
    for (const waiter of this.#waiters.values()) {
      clearTimeout(waiter.timer);
      waiter.resolve({ kind: "lost", why });
    }
    this.#waiters.clear();
    this.#socket.close().catch(() => {});
  }
}

function describe(error: unknown): string {
  return printable(error instanceof Error ? error.message : String(error));
}
