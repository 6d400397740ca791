// SMTP replies as a client receives them (RFC 5321 §4.2): one or more lines with the same code,
// `250-` on every line but the last, `250 ` (or a bare `250`) on the last, with an RFC 3463 enhanced
// status code at the start of the text when the server speaks RFC 2034.
import { printable } from "../printable.ts";
import type { LineReader } from "./line-reader.ts";

export interface Reply {
  readonly code: number;
  /** RFC 3463 `class.subject.detail` from the first line, when present and of the code's class. */
  readonly enhanced: string | null;
  /** Each line's text after the code and separator (enhanced status code included). */
  readonly texts: readonly string[];
  /** The lines as received, without CRLF. */
  readonly lines: readonly string[];
}

export interface ReplyLine {
  code: number;
  last: boolean;
  text: string;
}

/** Beyond this many lines a reply is refused: nothing legitimate is that long. */
export const MAX_REPLY_LINES = 100;
/** Rendered replies go into logs and bounce reasons: bounded like Postfix's line_length_limit. */
const MAX_RENDERED = 2048;

const REPLY_LINE = /^([2-5][0-9][0-9])(?:([ -])(.*))?$/s;
const ENHANCED = /^([245])\.(0|[1-9][0-9]{0,2})\.(0|[1-9][0-9]{0,2})(?=\s|$)/;

export function parseReplyLine(line: string): ReplyLine | null {
  const match = REPLY_LINE.exec(line);
  if (!match) return null;
  return { code: Number(match[1]), last: match[2] !== "-", text: match[3] ?? "" };
}

/** Parses a complete reply; null when a line is malformed, codes differ or the last line is missing. */
export function parseReply(lines: readonly string[]): Reply | null {
  if (lines.length === 0) return null;
  const texts: string[] = [];
  let code = 0;
  for (const [i, line] of lines.entries()) {
    const parsed = parseReplyLine(line);
    if (!parsed || (i > 0 && parsed.code !== code)) return null;
    if (parsed.last !== (i === lines.length - 1)) return null;
    code = parsed.code;
    texts.push(parsed.text);
  }
  return { code, enhanced: enhancedCode(code, texts[0] ?? ""), texts, lines: [...lines] };
}

function enhancedCode(code: number, text: string): string | null {
  const match = ENHANCED.exec(text);
  if (!match || Number(match[1]) !== Math.floor(code / 100)) return null;
  return match[0];
}

/** The reply on one line, as Postfix logs it: "550-5.1.1 first 550 5.1.1 second". */
export function renderReply(reply: Reply): string {
  return printable(reply.lines.join(" "), MAX_RENDERED);
}

/** The reply's enhanced status code, or the one implied by its class ("4.0.0"). */
export function replyDsn(reply: Reply): string {
  return reply.enhanced ?? `${Math.floor(reply.code / 100)}.0.0`;
}

export type ReplyFailure = "timeout" | "lost" | "malformed" | "too-long";

export type ReplyRead = { ok: true; reply: Reply } | { ok: false; failure: ReplyFailure; detail: string };

/** Reads one whole reply; the timeout bounds the whole reply, not each line. */
export async function readReply(
  reader: LineReader,
  timeoutMs: number,
  maxLines = MAX_REPLY_LINES,
): Promise<ReplyRead> {
  const deadline = Date.now() + timeoutMs;
  const lines: string[] = [];
  for (;;) {
    const read = await reader.readLine(deadline - Date.now());
    switch (read.kind) {
      case "timeout":
        return { ok: false, failure: "timeout", detail: "timed out" };
      case "eof":
        return { ok: false, failure: "lost", detail: "connection closed" };
      case "error":
        return { ok: false, failure: "lost", detail: printable(read.message) };
    }
    const parsed = parseReplyLine(read.line);
    if (!parsed) return { ok: false, failure: "malformed", detail: printable(read.line) };
    lines.push(read.line);
    if (parsed.last) {
      const reply = parseReply(lines);
      if (!reply) return { ok: false, failure: "malformed", detail: printable(lines.join(" ")) };
      return { ok: true, reply };
    }
    if (lines.length >= maxLines) {
      return { ok: false, failure: "too-long", detail: `more than ${maxLines} lines` };
    }
  }
}
