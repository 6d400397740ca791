// The end of a message (DATA's final dot, BDAT LAST): the streamed content is finished with its
// envelope, and 250 is answered only once that resolved, which means the message is stored and
// queued. A delivered message clears the error count ("errors ... without delivering mail").

import { envelopeOf } from "./message-content.ts";
import { formatReply, fromSmtpReply, REPLIES, type ServerReply } from "./replies.ts";
import type { SessionCore, Transaction } from "./session-core.ts";
import type { AcceptResult } from "./session-ports.ts";

export async function finishMessage(core: SessionCore): Promise<void> {
  const transaction = core.transaction;
  const content = transaction?.content ?? null;
  // The content is this function's now: ending the transaction must not drop it.
  if (transaction) transaction.content = null;
  core.resetTransaction();
  core.where = "END-OF-MESSAGE";
  // DATA and BDAT run only with an accepted recipient, which assigned the id.
  if (!transaction?.queueId || !content) return core.reply(REPLIES.needRcpt);
  if (content.failure !== null) return refuse(core, transaction, REPLIES.queueWriteError);
  const envelope = envelopeOf(core, transaction, transaction.queueId);
  let result: AcceptResult;
  try {
    result = await content.finish(envelope);
  } catch (error) {
    // The port should answer with a reply; a throw is still not a 250.
    core.warn(`warning: ${envelope.queueId}: accepting the message failed: ${describe(error)}`);
    return refuse(core, transaction, REPLIES.queueWriteError);
  }
  if (!result.ok) {
    await content.abort();
    return refuse(core, transaction, fromSmtpReply(result.reply));
  }
  core.errors = 0;
  core.reply(REPLIES.queued(result.queueId));
}

/** A message refused at its end (size, storage, bare newline), in Postfix's reject shape. */
export function logMessageReject(core: SessionCore, transaction: Transaction | null, text: string): void {
  const from = transaction ? core.printable(transaction.sender) : "";
  const to = transaction?.recipients[0] ? ` to=<${core.printable(transaction.recipients[0].address)}>` : "";
  core.info(
    `${transaction?.queueId ?? "NOQUEUE"}: reject: ${core.where} from ${core.peer}: ${text}; ` +
      `from=<${from}>${to} proto=${core.logProtocol} helo=<${core.helo?.name ?? ""}>`,
  );
}

/** Refuses the message whose content was read (size limit): the transaction ends. */
export function refuseMessage(core: SessionCore, reply: ServerReply): void {
  const transaction = core.transaction;
  core.resetTransaction();
  core.where = "END-OF-MESSAGE";
  refuse(core, transaction, reply);
}

function refuse(core: SessionCore, transaction: Transaction | null, reply: ServerReply): void {
  logMessageReject(core, transaction, formatReply(reply).trimEnd());
  core.reply(reply);
}

const describe = (error: unknown) => (error instanceof Error ? error.message : String(error));
