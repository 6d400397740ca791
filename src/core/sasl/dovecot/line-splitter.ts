// Frames the auth stream into LF-terminated lines with a hard bound. Unlike SMTP replies, an
// over-long line cannot be truncated and skipped: its fields (a base64 challenge) would be wrong,
// so it is reported and the connection dropped, as Dovecot's own client does ("Buffer full").

const LF = 0x0a;
const EMPTY = new Uint8Array(0);

export interface SplitResult {
  lines: string[];
  /** A line longer than the bound arrived (or is arriving): the stream is unusable. */
  overflow: boolean;
}

export class LineSplitter {
  readonly #maxBytes: number;
  readonly #decoder = new TextDecoder();
  #buffer: Uint8Array = EMPTY;

  constructor(maxBytes: number) {
    this.#maxBytes = maxBytes;
  }

  push(chunk: Uint8Array): SplitResult {
    const buffer = concat(this.#buffer, chunk);
    const lines: string[] = [];
    let start = 0;
    for (let lf = buffer.indexOf(LF); lf !== -1; lf = buffer.indexOf(LF, start)) {
      if (lf - start > this.#maxBytes) return this.#overflow(lines);
      lines.push(this.#decoder.decode(buffer.subarray(start, lf)));
      start = lf + 1;
    }
    this.#buffer = buffer.slice(start);
    if (this.#buffer.length > this.#maxBytes) return this.#overflow(lines);
    return { lines, overflow: false };
  }

  #overflow(lines: string[]): SplitResult {
    this.#buffer = EMPTY;
    return { lines, overflow: true };
  }
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  if (a.length === 0) return b;
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}
