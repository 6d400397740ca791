// The non-delivery report to the envelope sender (RFC 3464 inside RFC 6522 multipart/report), in
// the shape and words of Postfix's bounce(8) "failure" template: a human part, the
// message/delivery-status part, and the original (or only its headers when it is large).
// Composed by hand rather than with mimetext: the report type and the message/rfc822 part must be
// exact, and the original goes back byte for byte.
import { generateMessageId } from "../message/message-id.ts";
import { formatRfc5322Date } from "../message/rfc5322-date.ts";
import { printable } from "../printable.ts";

export interface FailedRecipient {
  recipient: string;
  /** ORCPT= of the submission (`rfc822;addr`): Original-Recipient. */
  originalRecipient?: string | null;
  /** RFC 3463 status, e.g. 5.1.1 (a 4.x.x one for a message that expired in the queue). */
  status: string;
  /** Postern's account, as recorded ("host H[A] said: 550 ... (in reply to RCPT TO command)"). */
  reason: string;
  /** The remote reply itself, when there was one: the Diagnostic-Code. */
  remoteReply: string | null;
  /** The host that gave it (Remote-MTA). */
  remoteMta: string | null;
  protocol: "smtp" | "lmtp";
}

export interface NotificationInput {
  /** myhostname: Reporting-MTA and the From/Message-ID domain. */
  hostname: string;
  queueId: string;
  sender: string;
  arrivalDate: Date;
  now: Date;
  recipients: FailedRecipient[];
  original: Uint8Array;
  /** Return the whole original only up to this size (bounce_size_limit), else its headers. */
  returnLimit: number;
  /** The original carries 8-bit octets: the report does too. */
  eightBit: boolean;
  /** ENVID= of the submission: Original-Envelope-Id (RFC 3464 §2.2.1). */
  envid?: string | null;
}

const encoder = new TextEncoder();
const MAX_LINE = 900;

const line = (text: string) => printable(text, MAX_LINE);
const addressType = (address: string) => (/[^\x00-\x7f]/.test(address) ? "utf-8" : "rfc822");
// A UTF-8 address goes in a header or report field as-is only with SMTPUTF8 (RFC 6533 §3); the
// message is sent with SMTPUTF8 then, so keep it, minus controls.
const address = (value: string) => value.replace(/[\x00-\x1f\x7f]/g, "?");

/** `host H[A] said: 550 5.1.1 text (in reply to RCPT TO command)` -> `550 5.1.1 text`. */
export function remoteReplyOf(reason: string): string | null {
  const said = /^host \S+ said: (\d{3}(?: .*)?) \(in reply to [^()]+ command\)$/s.exec(reason);
  return said ? said[1]! : null;
}

/** The header section of a message (up to and including the empty line), or all of it. */
function headerSection(message: Uint8Array): Uint8Array {
  for (let i = 0; i + 3 < message.length; i++) {
    if (message[i] === 13 && message[i + 1] === 10 && message[i + 2] === 13 && message[i + 3] === 10) {
      return message.subarray(0, i + 2);
    }
  }
  return message;
}

function boundaryFor(queueId: string, original: Uint8Array): string {
  const random = Array.from(crypto.getRandomValues(new Uint8Array(12)), (b) =>
    b.toString(16).padStart(2, "0"),
  ).join("");
  const boundary = `${queueId}.${random}/postern`;
  // 96 random bits make a collision with the original's text practically impossible; check anyway.
  const text = new TextDecoder("latin1").decode(original);
  return text.includes(boundary) ? boundaryFor(queueId, original) : boundary;
}

export function composeDeliveryStatusNotification(input: NotificationInput): Uint8Array {
  const { hostname, queueId, sender, recipients } = input;
  const whole = input.original.byteLength <= input.returnLimit;
  const returned = whole ? input.original : headerSection(input.original);
  const boundary = boundaryFor(queueId, input.original);
  const eightBit = whole && input.eightBit;

  const head = [
    `From: MAILER-DAEMON@${hostname} (Mail Delivery System)`,
    `To: ${address(sender)}`,
    "Subject: Undelivered Mail Returned to Sender",
    `Date: ${formatRfc5322Date(input.now)}`,
    `Message-ID: ${generateMessageId(hostname)}`,
    "Auto-Submitted: auto-replied",
    "MIME-Version: 1.0",
    "Content-Type: multipart/report; report-type=delivery-status;",
    `\tboundary="${boundary}"`,
    ...(eightBit ? ["Content-Transfer-Encoding: 8bit"] : []),
    "",
    "This is a MIME-encapsulated message.",
    "",
  ];
  const notification = [
    `--${boundary}`,
    "Content-Description: Notification",
    "Content-Type: text/plain; charset=us-ascii",
    "",
    `This is the mail system at host ${hostname}.`,
    "",
    "I'm sorry to have to inform you that your message could not",
    `be delivered to one or more recipients. ${whole ? "It's attached below." : "Its headers are attached below."}`,
    "",
    "For further assistance, please send mail to postmaster.",
    "",
    "If you do so, please include this problem report. You can",
    "delete your own text from the attached returned message.",
    "",
    "                   The mail system",
    "",
    ...recipients.map((r) => line(`<${r.recipient}>: ${r.reason}`)),
    "",
  ];
  const report = [
    `--${boundary}`,
    "Content-Description: Delivery report",
    "Content-Type: message/delivery-status",
    "",
    ...(input.envid ? [line(`Original-Envelope-Id: ${input.envid}`)] : []),
    `Reporting-MTA: dns; ${hostname}`,
    `X-Postfix-Queue-ID: ${queueId}`,
    `X-Postfix-Sender: ${addressType(sender)}; ${address(sender)}`,
    `Arrival-Date: ${formatRfc5322Date(input.arrivalDate)}`,
    "",
  ];
  for (const r of recipients) {
    if (r.originalRecipient && /^[A-Za-z0-9-]+;/.test(r.originalRecipient)) {
      report.push(line(`Original-Recipient: ${r.originalRecipient.replace(";", "; ")}`));
    }
    report.push(
      `Final-Recipient: ${addressType(r.recipient)}; ${address(r.recipient)}`,
      "Action: failed",
      `Status: ${/^[245]\.\d{1,3}\.\d{1,3}$/.test(r.status) ? r.status : "5.0.0"}`,
    );
    if (r.remoteMta) report.push(`Remote-MTA: dns; ${line(r.remoteMta)}`);
    report.push(
      r.remoteReply
        ? line(`Diagnostic-Code: ${r.protocol}; ${r.remoteReply}`)
        : line(`Diagnostic-Code: X-Postern; ${r.reason}`),
      "",
    );
  }
  const attachment = [
    `--${boundary}`,
    `Content-Description: Undelivered Message${whole ? "" : " Headers"}`,
    `Content-Type: ${whole ? "message/rfc822" : "text/rfc822-headers"}`,
    ...(eightBit ? ["Content-Transfer-Encoding: 8bit"] : []),
    "",
    "",
  ];
  const before = encoder.encode([...head, ...notification, ...report, ...attachment].join("\r\n"));
  const endsWithCrlf =
    returned.length >= 2 && returned[returned.length - 2] === 13 && returned[returned.length - 1] === 10;
  const after = encoder.encode(`${endsWithCrlf ? "" : "\r\n"}\r\n--${boundary}--\r\n`);
  const out = new Uint8Array(before.length + returned.length + after.length);
  out.set(before);
  out.set(returned, before.length);
  out.set(after, before.length + returned.length);
  return out;
}
