// BDAT (RFC 3030 CHUNKING): `BDAT <size> [LAST]` followed at once by exactly <size> octets, no
// dot stuffing. A chunk is always read, even when the command is refused, or its bytes would be
// taken for commands; the reply comes after the chunk. Once a chunk of a message is refused, every
// later chunk gets the same reply up to LAST (Postfix). A BDAT line whose size cannot be read
// cannot be framed: the session ends. The first accepted chunk opens the message's storage
// (MessageContent); each chunk is written there as it arrives.
import { bareNewline } from "./data.ts";
import { finishMessage, refuseMessage } from "./finish-message.ts";
import { MessageContent } from "./message-content.ts";
import { REPLIES, type ServerReply } from "./replies.ts";
import type { BdatChunk, SessionCore } from "./session-core.ts";

const CR = 0x0d;
const LF = 0x0a;
const BDAT = /^(\d{1,15})(?:[ \t]+(LAST))?$/i;

export async function bdatCommand(core: SessionCore, args: string) {
  const match = BDAT.exec(args.trim());
  if (!match) {
    core.reply(REPLIES.syntax("BDAT count [LAST]"));
    return core.close();
  }
  const size = Number(match[1]);
  const chunk: BdatChunk = {
    remaining: size,
    size,
    last: match[2] !== undefined,
    refusal: refusal(core, size),
  };
  const transaction = core.transaction;
  if (!chunk.refusal && transaction?.bdat && !transaction.content) {
    transaction.content = await MessageContent.open(core, transaction);
    if (!transaction.content) chunk.refusal = transaction.bdat.error = REPLIES.queueWriteError;
  }
  core.mode = { kind: "bdat", chunk };
}

function refusal(core: SessionCore, size: number): ServerReply | null {
  // BDAT is exempt from the generic checks (its chunk must be read either way): they are here.
  if (core.config.heloRequired && !core.helo) return REPLIES.sendHeloFirst;
  if (core.tlsRequired) return REPLIES.mustStartTls;
  const transaction = core.transaction;
  if (!transaction) return REPLIES.needRcpt;
  transaction.bdat ??= { size: 0, error: null, endsInCr: false };
  const content = transaction.bdat;
  if (content.error) return content.error;
  if (transaction.recipients.length === 0) content.error = REPLIES.noValidRecipients;
  const limit = core.config.messageSizeLimit;
  if (limit > 0 && content.size + size > limit) content.error = REPLIES.sizeExceeded;
  if (content.error) core.dropContent();
  return content.error;
}

/** Reads what is buffered of the chunk; once it is complete, answers it. */
export async function bdatInput(core: SessionCore, chunk: BdatChunk): Promise<void> {
  const count = Math.min(chunk.remaining, core.input.pending);
  const content = chunk.refusal ? null : core.transaction?.bdat;
  if (content && count > 0) {
    const bytes = core.input.peek(count);
    if (core.bareNewline === "reject") {
      const bare = findBareNewline(bytes, content.endsInCr);
      if (bare) return bareNewline(core, bare);
      content.endsInCr = bytes[bytes.length - 1] === CR;
    }
    // A copy: the input buffer moves on while the write is under way.
    const piece = bytes.slice();
    core.input.consume(count);
    content.size += count;
    await core.transaction?.content?.write(piece);
  } else {
    core.input.consume(count);
  }
  chunk.remaining -= count;
  if (chunk.remaining > 0) return;

  core.mode = { kind: "command" };
  if (chunk.refusal) {
    if (chunk.last && core.transaction) {
      if (chunk.refusal === REPLIES.sizeExceeded) return refuseMessage(core, chunk.refusal);
      core.resetTransaction();
    }
    return core.reply(chunk.refusal);
  }
  if (!chunk.last) return core.reply(REPLIES.chunkOk(chunk.size));
  if (!content) return core.reply(REPLIES.needRcpt);
  // A CR that ends the last chunk has no LF to come.
  if (core.bareNewline === "reject" && content.endsInCr) return bareNewline(core, "CR");
  await finishMessage(core);
}

/** A LF without CR before it, or a CR without LF after it (a CR at the end may pair later). */
function findBareNewline(bytes: Uint8Array, afterCr: boolean): "LF" | "CR" | null {
  let previous = afterCr ? CR : -1;
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i]!;
    if (b === LF && previous !== CR) return "LF";
    if (previous === CR && b !== LF) return "CR";
    previous = b;
  }
  return null;
}
