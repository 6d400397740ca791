// An in-memory Socket pair for tests: each write arrives as one read on the other side (so a test
// can tell one pipelined write from several), close() is an orderly shutdown, abort() a reset, and
// startTls() moves both ends to a fresh pair marked secure, dropping unread plaintext (RFC 3207 §6).
import type { Socket } from "./socket.ts";

type Waiter = { resolve: (bytes: Uint8Array | null) => void; reject: (error: Error) => void };

/** One direction of the connection. */
class Pipe {
  readonly chunks: Uint8Array[] = [];
  readonly waiters: Waiter[] = [];
  /** The writer closed: the reader sees end of stream once the chunks are drained. */
  ended = false;
  /** The reader is gone: writes fail. */
  readerGone = false;
  error: Error | null = null;

  push(bytes: Uint8Array): void {
    const waiter = this.waiters.shift();
    if (waiter) waiter.resolve(bytes);
    else this.chunks.push(bytes);
  }

  end(): void {
    this.ended = true;
    for (const waiter of this.waiters.splice(0)) waiter.resolve(null);
  }

  fail(error: Error): void {
    this.error = error;
    this.chunks.length = 0;
    for (const waiter of this.waiters.splice(0)) waiter.reject(error);
  }
}

/** Both directions of one (plaintext or TLS) connection; `next` is the connection after STARTTLS. */
interface Link {
  pipes: { a: Pipe; b: Pipe }; // pipes.a carries bytes written by side a
  next: Link | null;
}

type Side = "a" | "b";

export class MemorySocket implements Socket {
  readonly #link: Link;
  readonly #side: Side;
  readonly #secure: boolean;
  #state: "open" | "closed" | "upgraded" = "open";

  constructor(link: Link, side: Side, secure: boolean) {
    this.#link = link;
    this.#side = side;
    this.#secure = secure;
  }

  get secure(): boolean {
    return this.#secure;
  }

  get #inbound(): Pipe {
    return this.#link.pipes[this.#side === "a" ? "b" : "a"];
  }

  get #outbound(): Pipe {
    return this.#link.pipes[this.#side];
  }

  read(): Promise<Uint8Array | null> {
    const pipe = this.#inbound;
    if (pipe.error) return Promise.reject(pipe.error);
    if (this.#state === "upgraded") return Promise.reject(new Error("socket was upgraded to TLS"));
    const chunk = pipe.chunks.shift();
    if (chunk) return Promise.resolve(chunk);
    if (pipe.ended || this.#state === "closed") return Promise.resolve(null);
    return new Promise((resolve, reject) => pipe.waiters.push({ resolve, reject }));
  }

  write(bytes: Uint8Array): Promise<void> {
    const pipe = this.#outbound;
    if (pipe.error) return Promise.reject(pipe.error);
    if (this.#state !== "open") return Promise.reject(new Error(`socket is ${this.#state}`));
    if (pipe.readerGone) return Promise.reject(new Error("broken pipe: the peer closed the connection"));
    pipe.push(bytes.slice());
    return Promise.resolve();
  }

  startTls(): Promise<Socket> {
    if (this.#state !== "open") return Promise.reject(new Error(`socket is ${this.#state}`));
    this.#state = "upgraded";
    this.#inbound.chunks.length = 0;
    this.#link.next ??= newLink();
    return Promise.resolve(new MemorySocket(this.#link.next, this.#side, true));
  }

  close(): Promise<void> {
    if (this.#state === "open") {
      this.#state = "closed";
      this.#outbound.end();
      const inbound = this.#inbound;
      inbound.readerGone = true;
      inbound.chunks.length = 0;
      for (const waiter of inbound.waiters.splice(0)) waiter.resolve(null);
    }
    return Promise.resolve();
  }

  /** A connection reset: reads and writes on both ends fail with this error. */
  abort(error = new Error("connection reset by peer")): void {
    this.#state = "closed";
    this.#link.pipes.a.fail(error);
    this.#link.pipes.b.fail(error);
  }
}

function newLink(): Link {
  return { pipes: { a: new Pipe(), b: new Pipe() }, next: null };
}

/** Two connected sockets: what one writes, the other reads. */
export function memorySocketPair(): [MemorySocket, MemorySocket] {
  const link = newLink();
  return [new MemorySocket(link, "a", false), new MemorySocket(link, "b", false)];
}
