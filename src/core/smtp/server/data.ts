// DATA (RFC 5321 §4.1.1.4): 354, then the content through the DataReader until CRLF "." CRLF,
// streamed to the accept port piece by piece as it arrives (MessageContent). Past
// message_size_limit what was stored is dropped, the reader keeps counting and the message is
// refused at its end (552 5.3.4, so the client is not left mid-transfer). A bare <LF> or <CR> in
// reject mode ends the session at once: what follows cannot be told apart from commands (SMTP
// smuggling).
import { type DataProgress, DataReader } from "./data-reader.ts";
import { finishMessage, logMessageReject, refuseMessage } from "./finish-message.ts";
import { MessageContent } from "./message-content.ts";
import { formatReply, REPLIES } from "./replies.ts";
import type { SessionCore } from "./session-core.ts";

/** The reply code when content holds a bare newline: the connection is closed with it. */
export const BARE_NEWLINE_CLOSE_CODE = 521;

export async function dataCommand(core: SessionCore, args: string, ending: "crlf" | "lf") {
  if (args.trim() !== "") return core.reply(REPLIES.syntax("DATA"));
  const transaction = core.transaction;
  // Postfix: without MAIL, "need RCPT"; with MAIL but no accepted recipient, "no valid recipients".
  if (!transaction) return core.reply(REPLIES.needRcpt);
  if (transaction.bdat) return core.reply(REPLIES.dataAfterBdat);
  if (transaction.recipients.length === 0) return core.reply(REPLIES.noValidRecipients);
  transaction.content = await MessageContent.open(core, transaction);
  if (!transaction.content) return core.reply(REPLIES.queueWriteError);
  const reader = new DataReader(core.bareNewline, core.config.messageSizeLimit, ending === "crlf");
  core.mode = { kind: "data", reader };
  core.reply(REPLIES.startData);
}

/** Hands what the reader has read so far to storage; past the size limit, drops what was stored. */
export async function dataInput(core: SessionCore, reader: DataReader): Promise<void> {
  const content = core.transaction?.content;
  if (!content) return;
  if (reader.overflow) {
    reader.take();
    return content.abort();
  }
  await content.write(reader.take());
}

/** The reader stopped: the end of data, or a bare newline. */
export async function dataEnd(
  core: SessionCore,
  reader: DataReader,
  progress: Exclude<DataProgress, { kind: "more" }>,
): Promise<void> {
  core.mode = { kind: "command" };
  if (progress.kind === "bare-newline") return bareNewline(core, progress.what);
  if (reader.overflow) return refuseMessage(core, REPLIES.sizeExceeded);
  await finishMessage(core);
}

/** Refuses the message and closes: the rest of the input cannot be framed safely. */
export function bareNewline(core: SessionCore, what: "LF" | "CR"): void {
  const reply = REPLIES.bareNewline(BARE_NEWLINE_CLOSE_CODE, what);
  logMessageReject(core, core.transaction, formatReply(reply).trimEnd());
  core.resetTransaction();
  core.reply(reply);
  core.close();
}
