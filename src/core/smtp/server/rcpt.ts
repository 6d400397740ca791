// RCPT TO (RFC 5321 §4.1.1.3) with the DSN parameters NOTIFY and ORCPT (RFC 3461 §4.1, §4.2),
// then the restriction lists for this recipient (sender, relay, recipient: smtpd_delay_reject).
// The first accepted recipient gets the message its queue id, as Postfix opens the queue file
// then and logs `<id>: client=host[addr], sasl_method=..., sasl_username=...`.
import { newQueueId } from "../../ids.ts";
import { parseMailbox } from "../../mail/address.ts";
import type { RecipientDecision } from "../../policy/evaluate-recipient.ts";
import { renderReply, SERVER_CONFIGURATION_ERROR, type SmtpReply } from "../../policy/smtp-reply.ts";
import { type EsmtpParameter, parsePathArgument } from "../parse-path-argument.ts";
import { decodeXtext } from "../xtext.ts";
import { fromSmtpReply, REPLIES, type ServerReply } from "./replies.ts";
import type { SessionCore, Transaction } from "./session-core.ts";
import type { EnvelopeRecipient } from "./session-ports.ts";

type Notify = "NEVER" | "SUCCESS" | "FAILURE" | "DELAY";
const NOTIFY_VALUES: readonly string[] = ["SUCCESS", "FAILURE", "DELAY"];
// RFC 3461 §4.2: addr-type ";" xtext, addr-type an atom.
const ORCPT = /^([A-Za-z0-9!#$%&'*+\-/=?^_`{|}~]+);(.*)$/s;

export async function rcptCommand(core: SessionCore, args: string): Promise<void> {
  const transaction = core.transaction;
  if (!transaction) return core.reply(REPLIES.needMail);
  const parsed = parsePathArgument(args, "TO");
  if (!parsed.ok) {
    if (parsed.error === "syntax") return core.reply(REPLIES.syntax("RCPT TO:<address>"));
    if (parsed.error === "address") return core.reply(REPLIES.badRecipient);
    return core.reply(REPLIES.unsupportedOption(core.printable(parsed.raw)));
  }
  const limit = core.config.recipientLimit;
  if (limit > 0 && transaction.recipients.length >= limit) return core.reply(REPLIES.tooManyRecipients);
  const mailbox = parseMailbox(parsed.address);
  if (!mailbox.ok) return core.reply(REPLIES.badRecipient);
  const recipient: EnvelopeRecipient = { address: mailbox.mailbox.address, notify: null, orcpt: null };
  const refusal = applyParameters(core, recipient, parsed.params);
  if (refusal) return core.reply(refusal);
  if (mailbox.mailbox.utf8 && !transaction.smtputf8) return core.reply(REPLIES.unicodeWithoutSmtputf8);

  const decision = await decide(core, transaction, recipient.address);
  for (const warning of decision.warnings) core.warn(warning);
  const queueId = transaction.queueId ?? "NOQUEUE";
  // The mark belongs to the message even when this recipient is refused (evaluateRecipient).
  if (decision.hold !== undefined && transaction.hold === null) {
    transaction.hold = decision.hold;
    logRcpt(core, transaction, queueId, "hold", decision.hold, recipient.address);
  }
  if (decision.discard !== undefined && transaction.discard === null) {
    transaction.discard = decision.discard;
    logRcpt(core, transaction, queueId, "discard", decision.discard, recipient.address);
  }
  if (decision.decision !== "permit") {
    const reply = decision.reply ?? SERVER_CONFIGURATION_ERROR;
    logRcpt(core, transaction, queueId, "reject", renderReply(reply), recipient.address);
    return core.reply(fromSmtpReply(reply));
  }
  if (transaction.queueId === null) {
    transaction.queueId = core.ports.queueId?.() ?? newQueueId(core.ports.clock.now());
    const sasl = core.sasl
      ? `, sasl_method=${core.sasl.method}, sasl_username=${core.printable(core.sasl.username)}`
      : "";
    core.info(`${transaction.queueId}: client=${core.peer}${sasl}`);
  }
  transaction.recipients.push(recipient);
  core.reply(REPLIES.recipientOk);
}

async function decide(
  core: SessionCore,
  transaction: Transaction,
  recipient: string,
): Promise<RecipientDecision> {
  try {
    return await core.ports.policy.recipient({
      client: core.client,
      sasl: core.sasl,
      sender: transaction.sender,
      recipient,
      helo: core.helo?.name ?? "",
    });
  } catch (error) {
    // Whatever went wrong, it must not turn into a permit.
    const reply: SmtpReply = { ...SERVER_CONFIGURATION_ERROR };
    return { decision: "defer", reply, warnings: [`warning: restriction lists failed: ${describe(error)}`] };
  }
}

/** Postfix's `NOQUEUE: reject: RCPT from host[addr]: <reply>; from=<s> to=<r> proto=ESMTP helo=<h>`. */
function logRcpt(
  core: SessionCore,
  transaction: Transaction,
  queueId: string,
  what: string,
  text: string,
  recipient: string,
): void {
  core.info(
    `${queueId}: ${what}: RCPT from ${core.peer}: ${core.printable(text, 512)}; ` +
      `from=<${core.printable(transaction.sender)}> to=<${core.printable(recipient)}> ` +
      `proto=${core.logProtocol} helo=<${core.helo?.name ?? ""}>`,
  );
}

function applyParameters(
  core: SessionCore,
  recipient: EnvelopeRecipient,
  params: readonly EsmtpParameter[],
): ServerReply | null {
  const seen = new Set<string>();
  for (const { keyword, value, raw } of params) {
    if (seen.has(keyword)) return REPLIES.duplicateParameter(keyword);
    seen.add(keyword);
    switch (keyword) {
      case "NOTIFY": {
        const notify = value === null ? null : parseNotify(value);
        if (notify === null) return REPLIES.badParameter("NOTIFY");
        recipient.notify = notify;
        break;
      }
      case "ORCPT": {
        const match = value === null ? null : ORCPT.exec(value);
        const address = match ? decodeXtext(match[2]!) : null;
        if (!match || address === null || address === "") return REPLIES.badParameter("ORCPT");
        recipient.orcpt = `${match[1]!.toLowerCase()};${address}`;
        break;
      }
      default:
        return REPLIES.unsupportedOption(core.printable(raw));
    }
  }
  return null;
}

/** NEVER alone, or a list of SUCCESS, FAILURE, DELAY without repeats (RFC 3461 §4.1). */
function parseNotify(value: string): Notify[] | null {
  const items = value.toUpperCase().split(",");
  if (items.length === 1 && items[0] === "NEVER") return ["NEVER"];
  if (new Set(items).size !== items.length) return null;
  return items.every((item) => NOTIFY_VALUES.includes(item)) ? (items as Notify[]) : null;
}

const describe = (error: unknown) => (error instanceof Error ? error.message : String(error));
