// MAIL FROM (RFC 5321 §4.1.1.2) and its ESMTP parameters: SIZE (RFC 1870), BODY (RFC 6152),
// SMTPUTF8 (RFC 6531), RET and ENVID (RFC 3461), AUTH (RFC 4954 §5). Like Postfix with
// smtpd_delay_reject = yes, the sender restrictions run at RCPT time, so MAIL only checks syntax
// and size.
import { parseMailbox } from "../../mail/address.ts";
import { type EsmtpParameter, parsePathArgument } from "../parse-path-argument.ts";
import { decodeXtext } from "../xtext.ts";
import { REPLIES, type ServerReply } from "./replies.ts";
import type { SessionCore, Transaction } from "./session-core.ts";

/** RFC 3461 §4.4: an ENVID is at most 100 characters of printable ASCII. */
const ENVID_LIMIT = 100;

export function mailCommand(core: SessionCore, args: string) {
  if (core.config.heloRequired && !core.helo) return core.reply(REPLIES.sendHeloFirst);
  if (core.transaction) return core.reply(REPLIES.nestedMail);
  const parsed = parsePathArgument(args, "FROM");
  if (!parsed.ok) {
    if (parsed.error === "syntax") return core.reply(REPLIES.syntax("MAIL FROM:<address>"));
    if (parsed.error === "address") return core.reply(REPLIES.badSender);
    return core.reply(REPLIES.unsupportedOption(core.printable(parsed.raw)));
  }
  let sender = "";
  let utf8 = false;
  if (parsed.address !== "") {
    const mailbox = parseMailbox(parsed.address);
    if (!mailbox.ok) return core.reply(REPLIES.badSender);
    sender = mailbox.mailbox.address;
    utf8 = mailbox.mailbox.utf8;
  }
  const transaction: Transaction = {
    sender,
    queueId: null,
    recipients: [],
    body: null,
    smtputf8: false,
    ret: null,
    envid: null,
    auth: null,
    hold: null,
    discard: null,
    bdat: null,
    content: null,
  };
  const refusal = applyParameters(core, transaction, parsed.params);
  if (refusal) return core.reply(refusal);
  if (utf8 && !transaction.smtputf8) return core.reply(REPLIES.unicodeWithoutSmtputf8);
  core.transaction = transaction;
  core.reply(REPLIES.senderOk);
}

function applyParameters(
  core: SessionCore,
  transaction: Transaction,
  params: readonly EsmtpParameter[],
): ServerReply | null {
  const seen = new Set<string>();
  for (const { keyword, value, raw } of params) {
    if (seen.has(keyword)) {
      return keyword === "AUTH" ? REPLIES.multipleAuthOptions : REPLIES.duplicateParameter(keyword);
    }
    seen.add(keyword);
    const unsupported = REPLIES.unsupportedOption(core.printable(raw));
    switch (keyword) {
      case "SIZE": {
        if (value === null || !/^\d{1,15}$/.test(value)) return REPLIES.badParameter("SIZE");
        const limit = core.config.messageSizeLimit;
        // RFC 1870 §6.1: refuse at once what would be refused after the transfer.
        if (limit > 0 && Number(value) > limit) return REPLIES.sizeExceeded;
        break;
      }
      case "BODY": {
        const body = value?.toUpperCase();
        if (body !== "7BIT" && body !== "8BITMIME") return REPLIES.badParameter("BODY");
        transaction.body = body;
        break;
      }
      case "SMTPUTF8":
        if (value !== null) return unsupported;
        transaction.smtputf8 = true;
        break;
      case "RET": {
        const ret = value?.toUpperCase();
        if (ret !== "FULL" && ret !== "HDRS") return REPLIES.badParameter("RET");
        transaction.ret = ret;
        break;
      }
      case "ENVID": {
        const envid = value === null ? null : decodeXtext(value);
        if (envid === null || envid.length > ENVID_LIMIT || !/^[\x20-\x7e]+$/.test(envid)) {
          return REPLIES.badParameter("ENVID");
        }
        transaction.envid = envid;
        break;
      }
      case "AUTH": {
        // Postfix knows AUTH= only where it offers AUTH.
        if (!core.config.saslAuthEnable || !core.ports.auth) return unsupported;
        const mailbox = value === "<>" ? "" : value === null ? null : decodeXtext(value);
        if (mailbox === null) return REPLIES.badParameter("AUTH");
        // RFC 4954 §5: the claim means something only from a client that authenticated.
        if (core.sasl) transaction.auth = mailbox;
        break;
      }
      default:
        return unsupported;
    }
  }
  return null;
}
