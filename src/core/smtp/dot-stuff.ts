// Transparency for DATA (RFC 5321 §4.5.2): a line starting with "." gets a second ".". The output
// also ends with CRLF and has no bare LF or bare CR (each becomes CRLF, as Postfix's smtp(8) writes
// records with CRLF), so no byte sequence in the body can read as an end of data to a lenient server (SMTP
// smuggling). The terminating ".\r\n" is the caller's to send.

/** Writes are coalesced to about this size: a socket without Nagle control sends what it is given. */
export const DATA_CHUNK_BYTES = 64 * 1024;

const CR = 0x0d;
const LF = 0x0a;
const DOT = 0x2e;

export async function* dotStuff(
  body: Uint8Array | ReadableStream<Uint8Array>,
  chunkBytes = DATA_CHUNK_BYTES,
): AsyncGenerator<Uint8Array, void, undefined> {
  const out = new ChunkBuffer(chunkBytes);
  let lineStart = true;
  let last = -1; // the last byte written, across input chunks
  let pendingCr = false; // a CR whose next byte (maybe in the next chunk) decides what it was
  const endLine = () => {
    out.byte(CR);
    out.byte(LF);
    last = LF;
    lineStart = true;
  };
  for await (const chunk of chunksOf(body)) {
    let i = 0;
    while (i < chunk.length) {
      if (pendingCr) {
        // CRLF ends a line; a bare CR ends one too, so no lone CR reaches a lenient server.
        pendingCr = false;
        endLine();
        if (chunk[i] === LF) {
          i++;
          continue;
        }
      }
      if (lineStart) {
        if (chunk[i] === DOT) out.byte(DOT);
        lineStart = false;
      }
      let end = i;
      while (end < chunk.length && chunk[end] !== CR && chunk[end] !== LF) end++;
      if (end > i) {
        out.bytes(chunk, i, end);
        last = chunk[end - 1]!;
      }
      if (end === chunk.length) break;
      if (chunk[end] === LF)
        endLine(); // a bare LF becomes CRLF
      else pendingCr = true;
      i = end + 1;
    }
    yield* out.takeFull();
  }
  if (pendingCr || (last !== -1 && last !== LF)) endLine();
  yield* out.takeAll();
}

async function* chunksOf(body: Uint8Array | ReadableStream<Uint8Array>): AsyncGenerator<Uint8Array> {
  if (body instanceof Uint8Array) {
    yield body;
    return;
  }
  const reader = body.getReader();
  let done = false;
  try {
    for (;;) {
      const next = await reader.read();
      if (next.done) break;
      yield next.value;
    }
    done = true;
  } finally {
    // Stopped early (the connection dropped): let the source release what it holds.
    if (done) reader.releaseLock();
    else reader.cancel().catch(() => {});
  }
}

/** Fixed-size output chunks; a full one is handed out and never written again. */
class ChunkBuffer {
  readonly #size: number;
  #buffer: Uint8Array;
  #length = 0;
  #full: Uint8Array[] = [];

  constructor(size: number) {
    this.#size = size;
    this.#buffer = new Uint8Array(size);
  }

  byte(value: number): void {
    this.#buffer[this.#length++] = value;
    if (this.#length === this.#size) this.#flush();
  }

  bytes(source: Uint8Array, start: number, end: number): void {
    while (start < end) {
      const n = Math.min(end - start, this.#size - this.#length);
      this.#buffer.set(source.subarray(start, start + n), this.#length);
      this.#length += n;
      start += n;
      if (this.#length === this.#size) this.#flush();
    }
  }

  takeFull(): Uint8Array[] {
    const full = this.#full;
    this.#full = [];
    return full;
  }

  takeAll(): Uint8Array[] {
    const all = this.takeFull();
    if (this.#length > 0) all.push(this.#buffer.subarray(0, this.#length));
    this.#length = 0;
    return all;
  }

  #flush(): void {
    this.#full.push(this.#buffer);
    this.#buffer = new Uint8Array(this.#size);
    this.#length = 0;
  }
}
