// One mail transaction on a live connection (RFC 5321 §3.3): MAIL, RCPT..., DATA, body, end of data.
// With PIPELINING (RFC 2920) the commands up to DATA go out in one write and the replies are read
// in order; without it, lock-step. Each recipient ends sent, deferred or bounced, worded as Postfix's
// smtp(8) words it.
import { printable } from "../../printable.ts";
import { dotStuff } from "../dot-stuff.ts";
import { type Reply, renderReply, replyDsn } from "../reply.ts";
import { encodeXtext } from "../xtext.ts";
import type { Capabilities } from "./capabilities.ts";
import type { Conversation, Exchange, Failure, Stage } from "./conversation.ts";
import type { DeliveryStatus, RecipientOutcome, RelayMessage } from "./relay-message.ts";
import type { RelayTimeouts } from "./relay-options.ts";

export interface TransactionContext {
  conversation: Conversation;
  capabilities: Capabilities;
  timeouts: RelayTimeouts;
  /** Send RSET first: the previous transaction on this connection left state behind. */
  reset: boolean;
  /** LMTP (RFC 2033 §4.2): one reply per accepted recipient after the end of data. */
  lmtp?: boolean;
  /** smtp_send_dummy_mail_auth: `AUTH=<>` on MAIL FROM of an authenticated session (RFC 4954 §5). */
  dummyMailAuth?: boolean;
}

export interface TransactionResult {
  /** One per recipient, in the order given. */
  outcomes: RecipientOutcome[];
  /** The next transaction must start with RSET. */
  resetBeforeNext: boolean;
}

const CONTROL = /[\x00-\x1f\x7f]/;
const NON_ASCII = /[^\x00-\x7f]/;
const END_OF_DATA = new TextEncoder().encode(".\r\n");

const positive = (reply: Reply) => reply.code >= 200 && reply.code < 300;
// Only a 5xx is permanent; a 2xx or 3xx where none belongs is a protocol oddity worth a retry.
const failureStatus = (reply: Reply): DeliveryStatus => (reply.code >= 500 ? "bounced" : "deferred");

export async function runTransaction(
  ctx: TransactionContext,
  message: RelayMessage,
): Promise<TransactionResult> {
  const { conversation: conv, capabilities: caps, timeouts } = ctx;
  const { recipients, mailFrom } = message;
  const outcomes: (RecipientOutcome | undefined)[] = recipients.map(() => undefined);
  const settle = (i: number, status: DeliveryStatus, reply: string, dsn: string) => {
    outcomes[i] ??= { recipient: recipients[i]!, status, reply, dsn };
  };
  const settleRest = (status: DeliveryStatus, reply: string, dsn: string) => {
    for (const i of recipients.keys()) settle(i, status, reply, dsn);
  };
  const done = (resetBeforeNext: boolean): TransactionResult => ({
    outcomes: outcomes.map((o) => o!),
    resetBeforeNext,
  });
  const lost = (failure: Failure) => {
    settleRest("deferred", failure.reason, failure.dsn);
    return done(true);
  };
  // 421: the server is going away (RFC 5321 §3.8); nothing after it will be answered.
  const closing = (reply: Reply, stage: Stage) => {
    const said = conv.said(reply, stage);
    settleRest("deferred", said, replyDsn(reply));
    conv.abandon({ reason: said, dsn: replyDsn(reply) });
    return done(true);
  };

  // Checks that need no round trip. CR/LF in an address would inject commands.
  if (CONTROL.test(mailFrom)) {
    settleRest("bounced", `invalid sender address <${printable(mailFrom)}>`, "5.1.7");
    return done(ctx.reset);
  }
  for (const [i, rcpt] of recipients.entries()) {
    if (CONTROL.test(rcpt)) settle(i, "bounced", `invalid recipient address <${printable(rcpt)}>`, "5.1.3");
  }
  const active = [...recipients.keys()].filter((i) => outcomes[i] === undefined);
  if (active.length === 0) return done(ctx.reset);
  const utf8 =
    message.smtputf8 === true ||
    NON_ASCII.test(mailFrom) ||
    active.some((i) => NON_ASCII.test(recipients[i]!));
  if (utf8 && !caps.smtputf8) {
    settleRest("bounced", `SMTPUTF8 is required, but was not offered by host ${conv.peer}`, "5.6.7");
    return done(ctx.reset);
  }
  if (caps.size && message.size > caps.size) {
    const reason = `message size ${message.size} exceeds size limit ${caps.size} of server ${conv.peer}`;
    settleRest("bounced", reason, "5.3.4");
    return done(ctx.reset);
  }

  let mail = `MAIL FROM:<${mailFrom}>`;
  if (caps.size !== null && Number.isSafeInteger(message.size) && message.size >= 0) {
    mail += ` SIZE=${message.size}`;
  }
  if (message.eightBit && caps.eightBitMime) mail += " BODY=8BITMIME";
  if (utf8) mail += " SMTPUTF8";
  // RFC 3461: the submission's DSN requests travel on only to a server that offers DSN.
  const dsn = caps.dsn ? message.dsn : undefined;
  if (dsn?.ret) mail += ` RET=${dsn.ret}`;
  if (dsn?.envid && !CONTROL.test(dsn.envid)) mail += ` ENVID=${encodeXtext(dsn.envid)}`;
  if (ctx.dummyMailAuth) mail += " AUTH=<>";
  const rcpts = active.map((i) => `RCPT TO:<${recipients[i]}>${dsnRecipientParameters(dsn?.recipients[i])}`);

  const t = timeouts.command;
  const pipelined = caps.pipelining;
  // Pipelined, the replies are read while the write is still going, so a long recipient list cannot
  // deadlock against a server whose replies fill its send buffer.
  const writing = pipelined
    ? conv.command([...(ctx.reset ? ["RSET"] : []), mail, ...rcpts, "DATA"], ctx.reset ? "rset" : "mail", t)
    : Promise.resolve(null);
  const step = (line: string, stage: Stage): Promise<Exchange> =>
    pipelined ? conv.reply(stage, t) : conv.exchange(line, stage, t);

  let rsetRefused: Failure | null = null;
  if (ctx.reset) {
    const rset = await step("RSET", "rset");
    if (!rset.ok) return lost(rset.failure);
    if (rset.reply.code === 421) return closing(rset.reply, "rset");
    // Postfix does not reuse a connection whose RSET failed; this message still gets its answers.
    if (!positive(rset.reply))
      rsetRefused = { reason: conv.said(rset.reply, "rset"), dsn: replyDsn(rset.reply) };
  }

  const mailReply = await step(mail, "mail");
  if (!mailReply.ok) return lost(mailReply.failure);
  if (mailReply.reply.code === 421) return closing(mailReply.reply, "mail");
  const mailRefused = !positive(mailReply.reply);
  if (mailRefused) {
    settleRest(failureStatus(mailReply.reply), conv.said(mailReply.reply, "mail"), replyDsn(mailReply.reply));
  }

  const accepted: number[] = [];
  if (pipelined || !mailRefused) {
    for (const [k, i] of active.entries()) {
      const rcpt = await step(rcpts[k]!, "rcpt");
      if (!rcpt.ok) return lost(rcpt.failure);
      if (rcpt.reply.code === 421) return closing(rcpt.reply, "rcpt");
      if (mailRefused) continue; // pipelined: these answers (503) say nothing about the recipient
      if (positive(rcpt.reply)) accepted.push(i);
      else settle(i, failureStatus(rcpt.reply), conv.said(rcpt.reply, "rcpt"), replyDsn(rcpt.reply));
    }
  }

  let dataReply: Reply | null = null;
  if (pipelined || accepted.length > 0) {
    const data = await step("DATA", "data");
    if (!data.ok) return lost(data.failure);
    if (data.reply.code === 421) return closing(data.reply, "data");
    dataReply = data.reply;
  }
  const writeFailed = await writing;
  if (writeFailed) return lost(writeFailed);
  const finish = (resetBeforeNext: boolean) => {
    if (rsetRefused) conv.abandon(rsetRefused);
    return done(resetBeforeNext);
  };

  if (accepted.length === 0) {
    // A server that answers a pipelined DATA with 354 despite no valid recipient gets an empty
    // message's end, so that it does not wait for a body; its verdict changes nothing.
    if (dataReply?.code === 354) {
      const end = await conv.exchange(".", "dot", timeouts.data);
      if (!end.ok) return finish(true);
    }
    const rset = await conv.exchange("RSET", "rset", t);
    if (rset.ok && !positive(rset.reply)) {
      rsetRefused ??= { reason: conv.said(rset.reply, "rset"), dsn: replyDsn(rset.reply) };
    }
    return finish(false);
  }
  if (dataReply?.code !== 354) {
    const reply = dataReply!;
    for (const i of accepted) settle(i, failureStatus(reply), conv.said(reply, "data"), replyDsn(reply));
    return finish(true);
  }

  // The body. Any failure from here on leaves the server mid-DATA: the connection is given up, and
  // the end-of-data dot is never sent after a partial body.
  const localFailure = (error: unknown) => {
    const detail = printable(error instanceof Error ? error.message : String(error));
    conv.abandon({
      reason: `conversation with ${conv.peer} aborted after a local error while sending message body`,
      dsn: "4.3.0",
    });
    settleRest("deferred", `error reading message body: ${detail}`, "4.3.0");
    return done(true);
  };
  let previous: Uint8Array | null = null;
  try {
    const body = await message.body();
    for await (const chunk of dotStuff(body)) {
      if (previous) {
        const failed = await conv.write(previous, "body", timeouts.data);
        if (failed) return lost(failed);
      }
      previous = chunk;
    }
  } catch (error) {
    return localFailure(error);
  }
  // The dot rides with the last chunk rather than in a packet of its own.
  const failed = await conv.write(withEndOfData(previous), "body", timeouts.data);
  if (failed) return lost(failed);

  // SMTP: one reply for the message. LMTP: one per accepted recipient, in RCPT order; a recipient
  // whose reply never came stays deferred (those already answered keep their answer).
  for (const [k, i] of accepted.entries()) {
    if (k > 0 && !ctx.lmtp) break;
    const end = await conv.reply("dot", timeouts.data);
    if (!end.ok) return lost(end.failure);
    const reply = end.reply;
    const whom = ctx.lmtp ? [i] : accepted;
    for (const j of whom) {
      if (positive(reply)) settle(j, "sent", renderReply(reply), replyDsn(reply));
      else settle(j, failureStatus(reply), conv.said(reply, "dot"), replyDsn(reply));
    }
    if (reply.code === 421) {
      conv.abandon({ reason: conv.said(reply, "dot"), dsn: replyDsn(reply) });
      return lost(conv.broken!);
    }
  }
  return finish(true);
}

const NOTIFY = /^(?:NEVER|(?:SUCCESS|FAILURE|DELAY)(?:,(?:SUCCESS|FAILURE|DELAY))*)$/;

function dsnRecipientParameters(dsn: { notify: string | null; orcpt: string | null } | undefined): string {
  let out = "";
  if (dsn?.notify && NOTIFY.test(dsn.notify)) out += ` NOTIFY=${dsn.notify}`;
  const semicolon = dsn?.orcpt?.indexOf(";") ?? -1;
  if (dsn?.orcpt && semicolon > 0 && !CONTROL.test(dsn.orcpt)) {
    const type = dsn.orcpt.slice(0, semicolon).trim();
    if (/^[A-Za-z0-9-]+$/.test(type))
      out += ` ORCPT=${type};${encodeXtext(dsn.orcpt.slice(semicolon + 1).trim())}`;
  }
  return out;
}

function withEndOfData(last: Uint8Array | null): Uint8Array {
  if (!last) return END_OF_DATA;
  const out = new Uint8Array(last.length + END_OF_DATA.length);
  out.set(last);
  out.set(END_OF_DATA, last.length);
  return out;
}
