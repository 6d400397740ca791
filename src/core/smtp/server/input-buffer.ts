// The bytes a client sent that the session has not used yet. Lines come out whole (bounded, so a
// client cannot grow memory by never sending LF) and raw byte runs come out for BDAT and DATA.
// What is still buffered after a command is what the client pipelined (RFC 2920).

export type LineRead =
  | { kind: "line"; bytes: Uint8Array; ending: "crlf" | "lf" }
  /** The line was longer than the limit; it has been skipped up to and including its LF. */
  | { kind: "too-long"; ending: "crlf" | "lf" };

const LF = 0x0a;
const CR = 0x0d;

export class InputBuffer {
  #bytes = new Uint8Array(4096);
  #start = 0;
  #end = 0;
  /** Where the LF search resumes: bytes before it are known not to hold one. */
  #scanned = 0;
  /** Skipping an over-long line until its LF; the last byte skipped, to tell CRLF from LF. */
  #skipping: { last: number } | null = null;

  /** Bytes waiting to be used. */
  get pending(): number {
    return this.#end - this.#start;
  }

  append(bytes: Uint8Array): void {
    if (bytes.length === 0) return;
    if (this.#skipping) {
      // Nothing but the LF matters while skipping: keep memory flat.
      const lf = bytes.indexOf(LF);
      if (lf < 0) {
        this.#skipping.last = bytes[bytes.length - 1]!;
        return;
      }
      this.#skipping.last = lf > 0 ? bytes[lf - 1]! : this.#skipping.last;
      this.#put(bytes.subarray(lf));
      return;
    }
    this.#put(bytes);
  }

  /**
   * The next line without its ending, when a whole one is buffered; `limit` counts the line with
   * its CRLF, as RFC 5321 §4.5.3.1 does. A bare LF also ends a line (the session decides whether
   * to accept it). Null: more input is needed.
   */
  readLine(limit: number): LineRead | null {
    if (this.#skipping) {
      if (this.pending === 0) return null;
      // append() left the LF first in the buffer.
      const ending = this.#skipping.last === CR ? "crlf" : "lf";
      this.#skipping = null;
      this.consume(1);
      return { kind: "too-long", ending };
    }
    const lf = this.#bytes.subarray(this.#scanned, this.#end).indexOf(LF);
    if (lf < 0) {
      this.#scanned = this.#end;
      // A line of exactly `limit` bytes may still lack only its LF.
      if (this.pending >= limit) {
        this.#skipping = { last: this.#bytes[this.#end - 1]! };
        this.clear();
      }
      return null;
    }
    const at = this.#scanned + lf;
    const crlf = at > this.#start && this.#bytes[at - 1] === CR;
    const ending = crlf ? "crlf" : "lf";
    const line = this.#bytes.slice(this.#start, crlf ? at - 1 : at);
    this.consume(at + 1 - this.#start);
    if (line.length + 2 > limit) return { kind: "too-long", ending };
    return { kind: "line", bytes: line, ending };
  }

  /** The buffered bytes, without consuming them (valid until the next append or consume). */
  peek(max = this.pending): Uint8Array {
    return this.#bytes.subarray(this.#start, this.#start + Math.min(max, this.pending));
  }

  consume(count: number): void {
    this.#start += Math.min(count, this.pending);
    if (this.#scanned < this.#start) this.#scanned = this.#start;
    if (this.#start === this.#end) {
      this.#start = 0;
      this.#end = 0;
      this.#scanned = 0;
    }
  }

  /** Drops everything buffered (STARTTLS: plaintext pipelined after it); returns how much. */
  clear(): number {
    const dropped = this.pending;
    this.consume(dropped);
    return dropped;
  }

  #put(bytes: Uint8Array): void {
    if (this.#end + bytes.length > this.#bytes.length) {
      const needed = this.pending + bytes.length;
      if (needed <= this.#bytes.length / 2) {
        this.#bytes.copyWithin(0, this.#start, this.#end);
      } else {
        let size = this.#bytes.length;
        while (size < needed * 2) size *= 2;
        const grown = new Uint8Array(size);
        grown.set(this.#bytes.subarray(this.#start, this.#end));
        this.#bytes = grown;
      }
      this.#scanned -= this.#start;
      this.#end -= this.#start;
      this.#start = 0;
    }
    this.#bytes.set(bytes, this.#end);
    this.#end += bytes.length;
  }
}
