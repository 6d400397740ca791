// Reads CRLF-terminated lines from a Socket with a bounded buffer and a read timeout. A line longer
// than the bound is truncated and its rest skipped, as Postfix's smtp_get() does, so a hostile peer
// can neither grow our memory nor desynchronise the reply stream.
import type { Socket } from "../net/socket.ts";
import { withTimeout } from "./with-timeout.ts";

export type LineRead =
  | { kind: "line"; line: string; truncated: boolean }
  | { kind: "eof" }
  | { kind: "timeout" }
  | { kind: "error"; message: string };

/** RFC 5321 §4.5.3.1.5 allows 512 octets per reply line; Postfix accepts up to line_length_limit. */
export const MAX_LINE_BYTES = 4096;

const LF = 0x0a;
const CR = 0x0d;
const EMPTY = new Uint8Array(0);

type Chunk = { bytes: Uint8Array | null } | { error: unknown };

export class LineReader {
  readonly #socket: Socket;
  readonly #maxBytes: number;
  readonly #decoder = new TextDecoder();
  #buffer: Uint8Array = EMPTY;
  // A read still outstanding when a timeout fired: the next call waits on it instead of racing it.
  #pending: Promise<Chunk> | null = null;
  #ended: LineRead | null = null;

  constructor(socket: Socket, maxBytes = MAX_LINE_BYTES) {
    this.#socket = socket;
    this.#maxBytes = maxBytes;
  }

  /** The next line without its CRLF (a bare LF also ends a line). */
  async readLine(timeoutMs: number): Promise<LineRead> {
    const deadline = Date.now() + timeoutMs;
    let head: Uint8Array | null = null; // the kept start of an over-long line
    for (;;) {
      const lf = this.#buffer.indexOf(LF);
      if (lf !== -1) {
        const raw = this.#buffer.subarray(0, lf);
        this.#buffer = this.#buffer.subarray(lf + 1);
        if (head) return this.#line(head, true);
        const line = raw.at(-1) === CR ? raw.subarray(0, -1) : raw;
        if (line.length > this.#maxBytes) return this.#line(line.subarray(0, this.#maxBytes), true);
        return this.#line(line, false);
      }
      // +1: a line of exactly maxBytes may still be waiting for the LF after its CR.
      if (!head && this.#buffer.length > this.#maxBytes + 1) head = this.#buffer.slice(0, this.#maxBytes);
      if (head) this.#buffer = EMPTY;
      if (this.#ended) return this.#ended;

      const chunk = await this.#next(deadline - Date.now());
      if (chunk === "timeout") return { kind: "timeout" };
      if ("error" in chunk) {
        const message = chunk.error instanceof Error ? chunk.error.message : String(chunk.error);
        this.#ended = { kind: "error", message };
        return this.#ended;
      }
      if (chunk.bytes === null) {
        // A partial line at end of stream is not a reply: the connection was lost mid-line.
        this.#ended = { kind: "eof" };
        return this.#ended;
      }
      this.#buffer = concat(this.#buffer, chunk.bytes);
    }
  }

  #line(bytes: Uint8Array, truncated: boolean): LineRead {
    return { kind: "line", line: this.#decoder.decode(bytes), truncated };
  }

  async #next(timeoutMs: number): Promise<Chunk | "timeout"> {
    this.#pending ??= this.#socket.read().then(
      (bytes) => ({ bytes }),
      (error: unknown) => ({ error }),
    );
    const result = await withTimeout(this.#pending, timeoutMs);
    if (result.timedOut) return "timeout";
    this.#pending = null;
    return result.value;
  }
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  if (a.length === 0) return b;
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}
