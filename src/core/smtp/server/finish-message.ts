// The end of a message (DATA's final dot, BDAT LAST): prepend Received:, hand envelope and bytes to
// the accept port, and answer 250 only once it resolved, which means the message is stored and
// queued. A delivered message clears the error count ("errors ... without delivering mail").

import { receivedHeader } from "./received-header.ts";
import { formatReply, fromSmtpReply, REPLIES, type ServerReply } from "./replies.ts";
import type { SessionCore, Transaction } from "./session-core.ts";
import type { AcceptResult, Envelope } from "./session-ports.ts";

const encoder = new TextEncoder();

export async function finishMessage(core: SessionCore, content: Uint8Array): Promise<void> {
  const transaction = core.transaction;
  core.resetTransaction();
  core.where = "END-OF-MESSAGE";
  // DATA and BDAT run only with an accepted recipient, which assigned the id.
  if (!transaction?.queueId) return core.reply(REPLIES.needRcpt);
  const envelope = envelopeOf(core, transaction, transaction.queueId);
  const header = receivedHeader({
    helo: core.helo?.name ?? null,
    client: core.client,
    authenticatedSender: core.config.saslAuthenticatedHeader && core.sasl ? core.sasl.username : null,
    hostname: core.config.hostname,
    protocol: envelope.protocol,
    queueId: envelope.queueId,
    recipients: envelope.recipients.map((recipient) => recipient.address),
    date: new Date(core.ports.clock.now()),
  });
  const message = concat(encoder.encode(header), content);
  let result: AcceptResult;
  try {
    result = await core.ports.accept.accept(envelope, message);
  } catch (error) {
    // The port should answer with a reply; a throw is still not a 250.
    core.warn(`warning: ${envelope.queueId}: accepting the message failed: ${describe(error)}`);
    return refuse(core, transaction, REPLIES.queueWriteError);
  }
  if (!result.ok) return refuse(core, transaction, fromSmtpReply(result.reply));
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

function envelopeOf(core: SessionCore, transaction: Transaction, queueId: string): Envelope {
  return {
    queueId,
    client: core.client,
    helo: core.helo?.name ?? "",
    protocol: core.receivedProtocol,
    tls: core.tls !== null,
    sasl: core.sasl,
    sender: transaction.sender,
    recipients: transaction.recipients,
    body: transaction.body,
    smtputf8: transaction.smtputf8,
    ret: transaction.ret,
    envid: transaction.envid,
    auth: transaction.auth,
    hold: transaction.hold,
    discard: transaction.discard,
  };
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

const describe = (error: unknown) => (error instanceof Error ? error.message : String(error));
