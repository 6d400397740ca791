// The DATA content reader (RFC 5321 §4.1.1.4, §4.5.2): finds the end of data, removes the dot
// stuffing, and decides what a bare <LF> or <CR> means (smtpd_forbid_bare_newline), since that
// is where SMTP smuggling lives: a server that reads `\n.\n` or `\r.\r` as the end of data lets a
// sender's content become commands. The content comes out with CRLF line endings, a piece at a
// time (take()), so the session can stream it to storage; past the size limit it is counted, not
// kept.
//
//   reject     only CRLF ends a line; a bare LF or CR stops the reader (the session disconnects)
//   normalize  a bare LF ends a line as CRLF would, but only CRLF "." CRLF ends the data
//   no         a bare LF ends a line everywhere, the data too (Postfix before 3.9)

import type { InputBuffer } from "./input-buffer.ts";
import type { BareNewlineMode } from "./session-config.ts";

export type DataProgress =
  | { kind: "more" }
  | { kind: "end" }
  /** reject mode: a bare LF or CR; the rest of the input cannot be framed safely. */
  | { kind: "bare-newline"; what: "LF" | "CR" };

const CR = 0x0d;
const LF = 0x0a;
const DOT = 0x2e;
const CRLF = Uint8Array.of(CR, LF);
const DOT_CRLF = Uint8Array.of(DOT, CR, LF);
const CR_ONLY = Uint8Array.of(CR);

/** Where the reader is inside the current line. */
type Position =
  | "line-start" // after a line ending
  | "dot" // the line began with "."
  | "dot-cr" // the line began with ".\r"
  | "text"
  | "cr"; // a CR inside a line, its LF not seen yet

export class DataReader {
  readonly #mode: BareNewlineMode;
  readonly #limit: number;
  readonly #content: ContentSink;
  #position: Position = "line-start";
  /** The previous line ended in CRLF: a "." line now may end the data. */
  #afterCrlf: boolean;

  /**
   * `limit` is message_size_limit (0: none). `afterCrlf` says whether the DATA command line
   * itself ended in CRLF, as the line before the first content line.
   */
  constructor(mode: BareNewlineMode, limit: number, afterCrlf = true) {
    this.#mode = mode;
    this.#limit = limit;
    this.#content = new ContentSink(limit);
    this.#afterCrlf = afterCrlf || mode === "no";
  }

  /** Content bytes so far (after unstuffing), kept or not. */
  get size(): number {
    return this.#content.size;
  }

  /** The content went past the size limit: it was counted, not kept. */
  get overflow(): boolean {
    return this.#limit > 0 && this.#content.size > this.#limit;
  }

  /** The content read since the last take() (all of it, if nothing was taken). */
  take(): Uint8Array {
    return this.#content.take();
  }

  /** The same as take(): the content once the reader reported the end, when nothing was taken. */
  content(): Uint8Array {
    return this.#content.take();
  }

  /** Reads what is buffered; stops at the end of data, leaving what follows in `input`. */
  consume(input: InputBuffer): DataProgress {
    const bytes = input.peek();
    let i = 0;
    let result: DataProgress = { kind: "more" };
    while (i < bytes.length) {
      const b = bytes[i]!;
      switch (this.#position) {
        case "line-start":
          if (b === DOT) {
            this.#position = "dot";
            i++;
          } else {
            this.#position = "text";
          }
          continue;
        case "dot":
          if (b === CR) {
            this.#position = "dot-cr";
            i++;
            continue;
          }
          if (b === LF) {
            i++;
            if (this.#mode === "reject") result = { kind: "bare-newline", what: "LF" };
            else if (this.#mode === "no") result = { kind: "end" };
            // normalize: ".\n" is not CRLF "." CRLF; keep the line as it came.
            else this.#endLine(DOT_CRLF, false);
            if (result.kind !== "more") break;
            continue;
          }
          // A stuffed dot: drop it, the rest of the line is content (§4.5.2).
          this.#position = "text";
          continue;
        case "dot-cr":
          if (b === LF) {
            i++;
            if (this.#afterCrlf) {
              result = { kind: "end" };
              break;
            }
            // normalize: "\n.\r\n" is not CRLF "." CRLF (the smuggling sequence most servers miss).
            this.#endLine(DOT_CRLF, true);
            continue;
          }
          if (this.#mode === "reject") {
            result = { kind: "bare-newline", what: "CR" };
            break;
          }
          // A stuffed dot followed by a bare CR: drop the dot, keep the CR as text. (The CR may
          // have come in an earlier feed, so it is written from a constant.)
          this.#content.write(CR_ONLY, 0, 1);
          this.#position = "text";
          continue;
        case "cr":
          if (b === LF) {
            i++;
            this.#endLine(CRLF, true);
            continue;
          }
          if (this.#mode === "reject") {
            result = { kind: "bare-newline", what: "CR" };
            break;
          }
          // Postfix keeps a bare CR as text outside reject mode.
          this.#content.write(CR_ONLY, 0, 1);
          this.#position = "text";
          continue;
        case "text": {
          // Copy the run up to the next CR or LF in one go.
          let j = i;
          while (j < bytes.length && bytes[j] !== CR && bytes[j] !== LF) j++;
          this.#content.write(bytes, i, j);
          i = j;
          if (i === bytes.length) continue;
          if (bytes[i] === CR) {
            this.#position = "cr";
            i++;
            continue;
          }
          i++;
          if (this.#mode === "reject") {
            result = { kind: "bare-newline", what: "LF" };
            break;
          }
          this.#endLine(CRLF, false);
          continue;
        }
      }
      break;
    }
    input.consume(i);
    return result;
  }

  #endLine(ending: Uint8Array, crlf: boolean): void {
    this.#content.write(ending, 0, ending.length);
    this.#position = "line-start";
    this.#afterCrlf = crlf || this.#mode === "no";
  }
}

/**
 * The content not taken yet (a feed's worth when the session streams it), up to the size limit;
 * beyond it only the count goes on.
 */
class ContentSink {
  readonly #limit: number;
  #bytes = new Uint8Array(16 * 1024);
  #length = 0;
  size = 0;

  constructor(limit: number) {
    this.#limit = limit;
  }

  write(source: Uint8Array, start: number, end: number): void {
    const count = end - start;
    if (count <= 0) return;
    this.size += count;
    if (this.#limit > 0 && this.size > this.#limit) {
      // Past the limit the message is refused: free what was kept and keep nothing more.
      if (this.#bytes.length > 0) this.#bytes = new Uint8Array(0);
      this.#length = 0;
      return;
    }
    if (this.#length + count > this.#bytes.length) {
      let size = this.#bytes.length * 2;
      while (size < this.#length + count) size *= 2;
      const grown = new Uint8Array(size);
      grown.set(this.#bytes.subarray(0, this.#length));
      this.#bytes = grown;
    }
    this.#bytes.set(source.subarray(start, end), this.#length);
    this.#length += count;
  }

  take(): Uint8Array {
    const taken = this.#bytes.slice(0, this.#length);
    this.#length = 0;
    return taken;
  }
}
