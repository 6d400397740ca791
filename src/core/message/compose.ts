// Submission -> RFC 5322 message bytes plus its envelope. mimetext lays out the MIME tree
// (multipart/alternative for text + html, multipart/mixed around attachments); Postern supplies
// the header encoders and part bodies, because mimetext 3.0.28 on its own writes each header as
// one unfolded line with a single unbounded encoded-word, puts text in as "7bit" whatever it
// holds, never wraps base64, writes filenames into quotes unescaped, allows one Reply-To only, and
// draws boundaries and Message-IDs from Math.random. Bcc has no field in the header table below,
// so it cannot be written: the bcc recipients exist only in the envelope.

import {
  createMimeMessage,
  type HeaderField,
  Mailbox,
  type MailboxAddrObject,
  type MIMEMessage,
  MIMEMessageHeader,
} from "mimetext/browser";
import type { Address } from "./address-input.ts";
import { formatMailboxList } from "./format-mailbox-list.ts";
import { formatUnstructured } from "./format-unstructured.ts";
import { foldTokens, foldUnstructured, LINE_LIMIT } from "./header-fold.ts";
import { generateMessageId } from "./message-id.ts";
import { formatParameter } from "./mime-parameter.ts";
import { formatRfc5322Date } from "./rfc5322-date.ts";
import type { Submission } from "./submission-schema.ts";
import { encodeBase64Body, encodeTextBody } from "./transfer-encoding.ts";

export interface ComposeOptions {
  /** myhostname: the Message-ID domain unless messageIdDomain is given */
  hostname: string;
  now?: Date;
  messageIdDomain?: string;
}

export interface ComposedMessage {
  bytes: Uint8Array;
  /** The Message-ID field body, angle brackets included. */
  messageId: string;
  envelope: { mailFrom: string; recipients: string[] };
}

const UNSTRUCTURED_CUSTOM = /^(?:x-.*|comments)$/i;

export function composeMessage(sub: Submission, options: ComposeOptions): ComposedMessage {
  const messageId = sub.messageId ?? generateMessageId(options.messageIdDomain ?? options.hostname);
  const message = createMimeMessage();
  message.headers = new SubmissionHeader(message.envctx);
  message.boundaries = { mixed: boundary(), alt: boundary(), related: boundary() };

  message.setHeader("Date", sub.date ?? formatRfc5322Date(options.now ?? new Date()));
  message.setSender(mailbox(sub.from));
  if (sub.sender) message.setHeader("Sender", new Mailbox(mailbox(sub.sender)));
  if (sub.replyTo.length > 0) {
    message.setHeader(
      "Reply-To",
      sub.replyTo.map((address) => new Mailbox(mailbox(address))),
    );
  }
  if (sub.to.length > 0) message.setTo(sub.to.map(mailbox));
  if (sub.cc.length > 0) message.setCc(sub.cc.map(mailbox));
  message.setHeader("Message-ID", messageId);
  message.setSubject(sub.subject);
  for (const { name, value } of sub.headers) {
    // custom fields are dumped verbatim by mimetext, so they are encoded and folded here
    const body = UNSTRUCTURED_CUSTOM.test(name)
      ? formatUnstructured(name, value)
      : foldUnstructured(name.length + 2, value);
    message.setHeader(name, body);
  }

  addBody(message, sub);
  const bytes = new TextEncoder().encode(canonicalLines(message.asRaw()));
  assertLineLimit(bytes);
  return {
    bytes,
    messageId,
    envelope: {
      mailFrom: sub.from.email,
      recipients: uniqueRecipients([...sub.to, ...sub.cc, ...sub.bcc]),
    },
  };
}

function addBody(message: MIMEMessage, sub: Submission): void {
  if (sub.text !== undefined) message.addMessage({ contentType: "text/plain", ...encodeTextBody(sub.text) });
  if (sub.html !== undefined) message.addMessage({ contentType: "text/html", ...encodeTextBody(sub.html) });
  // mimetext needs a text part to hang attachments on; an empty one is what MUAs send too
  if (sub.text === undefined && sub.html === undefined) {
    message.addMessage({ contentType: "text/plain", data: "", encoding: "7bit" });
  }
  for (const attachment of sub.attachments) {
    const part = message.addAttachment({
      filename: attachment.filename,
      contentType: attachment.contentType,
      data: encodeBase64Body(attachment.content),
      encoding: "base64",
    });
    const name = formatParameter("name", attachment.filename);
    const filename = formatParameter("filename", attachment.filename);
    part.setHeader("Content-Type", parameterised("Content-Type", attachment.contentType, name));
    part.setHeader("Content-Disposition", parameterised("Content-Disposition", "attachment", filename));
    // mimetext looks for "inline" anywhere in Content-Disposition, so "pipeline.pdf" would turn
    // into an inline part of a multipart/related; these parts are never inline.
    part.isInlineAttachment = () => false;
  }
}

function parameterised(field: string, value: string, parameters: string[]): string {
  const tokens = [value, ...parameters].map((token, index, all) =>
    index < all.length - 1 ? `${token};` : token,
  );
  return foldTokens(field.length + 2, tokens);
}

/**
 * mimetext's header table with Postern's encoders: mailbox lists and Subject are folded and
 * RFC 2047-encoded where needed; Reply-To takes a list (RFC 5322 §3.6.2); there is no Bcc.
 */
class SubmissionHeader extends MIMEMessageHeader {
  override fields: HeaderField[] = [
    { name: "Date", required: true },
    mailboxField("From", true),
    mailboxField("Sender", false),
    mailboxField("Reply-To", false),
    mailboxField("To", false),
    mailboxField("Cc", false),
    { name: "Message-ID", required: true },
    {
      name: "Subject",
      required: true,
      dump: (value) => (typeof value === "string" ? formatUnstructured("Subject", value) : ""),
    },
    { name: "MIME-Version", generator: () => "1.0" },
  ];
}

function mailboxField(name: string, required: boolean): HeaderField {
  const list = (value: unknown): Mailbox[] | null => {
    if (value instanceof Mailbox) return [value];
    const all = Array.isArray(value) && value.length > 0 && value.every((item) => item instanceof Mailbox);
    return all ? value : null;
  };
  return {
    name,
    required,
    validate: (value) => list(value) !== null,
    dump: (value) =>
      formatMailboxList(
        name,
        (list(value) ?? []).map((box) => ({ email: box.addr, name: box.name })),
      ),
  };
}

/** mimetext's plain-object mailbox form (its string parser is bypassed: addresses are validated). */
function mailbox(address: Address): MailboxAddrObject {
  return { addr: address.email, name: address.name ?? "" };
}

/** RFC 2046 §5.1.1 boundary: unguessable, so no part body can contain it by accident or design. */
function boundary(): string {
  // 96 bits: unguessable, and "Content-Type: multipart/alternative; boundary=..." fits 78 columns
  const random = crypto.getRandomValues(new Uint8Array(12));
  return `postern-${Array.from(random, (byte) => byte.toString(16).padStart(2, "0")).join("")}`;
}

/** Every line ends in CRLF, the message included (SMTP DATA needs the final CRLF). */
function canonicalLines(raw: string): string {
  const crlf = raw.replace(/\r?\n/g, "\r\n");
  return crlf.endsWith("\r\n") ? crlf : `${crlf}\r\n`;
}

/** A bug guard: every field folds and every body is encoded, so this never throws. */
function assertLineLimit(bytes: Uint8Array): void {
  let length = 0;
  for (let i = 0; i < bytes.length; i++) {
    const byte = bytes[i]!;
    if (byte === 0x0d && bytes[i + 1] !== 0x0a) throw new Error("composed message has a bare CR");
    if (byte === 0x0a) length = 0;
    else if (byte !== 0x0d) length += 1;
    if (length > LINE_LIMIT) throw new Error("composed message has a line over 998 octets");
  }
}

/**
 * to + cc + bcc in order, each address once. Local parts are case-sensitive (RFC 5321 §2.4),
 * domains are not: the first spelling wins.
 */
function uniqueRecipients(addresses: readonly Address[]): string[] {
  const seen = new Set<string>();
  const out: string[] = [];
  for (const { email } of addresses) {
    const at = email.lastIndexOf("@");
    const key = `${email.slice(0, at)}@${email.slice(at + 1).toLowerCase()}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(email);
  }
  return out;
}
