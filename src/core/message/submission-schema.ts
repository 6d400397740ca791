// POST /v1/messages JSON body -> a Submission that compose can turn into a message without any
// further checks. Everything that ends up in a header is refused if it could inject a line or a
// field (see unsafe-character.ts); every failure names its field and carries the RFC 3463
// enhanced status an SMTP server would have given for the same fault:
//
//   5.1.7  bad sender mailbox syntax (from, the Sender header)           RFC 3463 §3.2 X.1.7
//   5.1.3  bad destination mailbox syntax (to, cc, bcc, and reply_to:    RFC 3463 §3.2 X.1.3
//          the address replies are sent to)
//   5.5.1  no recipients at all (Postfix: "554 5.5.1 Error: no valid     RFC 3463 §3.6 X.5.1
//          recipients")
//   5.5.2  the request itself is malformed: wrong types, unknown or      RFC 3463 §3.6 X.5.2
//          missing fields, nothing to send
//   5.6.0  content that cannot go into a message: control characters,    RFC 3463 §3.7 X.6.0
//          bad header names or values, reserved headers, bad base64,
//          bad media types or filenames

import { z } from "zod";
import { type Address, type AddressInput, parseAddressInput } from "./address-input.ts";
import { fitsLineLimit, foldUnstructured } from "./header-fold.ts";
import { isMessageId } from "./message-id.ts";
import { RFC5322_DATE_TIME } from "./rfc5322-date.ts";
import { decodeBase64 } from "./transfer-encoding.ts";
import { findUnsafeCharacter } from "./unsafe-character.ts";

export type { Address } from "./address-input.ts";

export type EnhancedStatus = "5.1.3" | "5.1.7" | "5.5.1" | "5.5.2" | "5.6.0";

export interface SubmissionError {
  /** Path into the JSON body: `to[1].email`, `headers.X-Campaign`, `attachments[0].content` */
  field: string;
  message: string;
  enhanced: EnhancedStatus;
}

export interface SubmissionHeader {
  name: string;
  value: string;
}

export interface SubmissionAttachment {
  filename: string;
  contentType: string;
  content: Uint8Array;
}

export interface Submission {
  from: Address;
  to: Address[];
  cc: Address[];
  bcc: Address[];
  replyTo: Address[];
  subject: string;
  text?: string;
  html?: string;
  /** From headers{}: they replace the generated Date / Message-ID; Sender is a parsed mailbox. */
  date?: string;
  messageId?: string;
  sender?: Address;
  /** The other headers{} entries, in the order given. */
  headers: SubmissionHeader[];
  attachments: SubmissionAttachment[];
}

const SENDER: EnhancedStatus = "5.1.7";
const RECIPIENT: EnhancedStatus = "5.1.3";
const CONTENT: EnhancedStatus = "5.6.0";

/**
 * headers{} names Postern writes itself, that would change the MIME structure, or that belong to
 * the envelope and trace (RFC 5321 §4.4). Compared case-insensitively (RFC 5322 §1.2.2).
 */
const RESERVED_HEADERS: ReadonlyMap<string, string> = new Map([
  ["from", "is set from the from field"],
  ["to", "is set from the to field"],
  ["cc", "is set from the cc field"],
  ["bcc", "is never written into the message; use the bcc field"],
  ["reply-to", "is set from the reply_to field"],
  ["subject", "is set from the subject field"],
  ["mime-version", "is set by Postern, which builds the MIME structure"],
  ["content-type", "is set by Postern, which builds the MIME structure"],
  ["content-transfer-encoding", "is set by Postern, which builds the MIME structure"],
  ["content-disposition", "would change how the whole message is displayed"],
  ["received", "is a trace field added by mail servers (RFC 5321 §4.4)"],
  ["return-path", "is added at final delivery from the envelope sender (RFC 5321 §4.4)"],
  ["delivered-to", "is used by mail servers for loop detection"],
]);
/** RFC 5322 §2.2 field-name: printable ASCII except ':'. Capped so "Name: " fits a 78-column line. */
const FIELD_NAME = /^[\x21-\x39\x3b-\x7e]{1,76}$/;
/** RFC 2047 §5(1): encoded-words are allowed in unstructured fields only. */
const UNSTRUCTURED_CUSTOM = /^(?:x-.*|comments)$/i;
const ASCII = /^[\x00-\x7f]*$/;
const MEDIA_TYPE =
  /^[A-Za-z0-9!#$&^_.+-]{1,64}\/[A-Za-z0-9!#$&^_.+-]{1,64}(?:[ \t]*;[ \t]*[A-Za-z0-9!#$%&'*+.^_`|~-]+=(?:[A-Za-z0-9!#$%&'*+.^_`|~-]+|"(?:[\x20\x21\x23-\x5b\x5d-\x7e]|\\[\x20-\x7e])*"))*$/;
/** RFC 2045 §6.4 / RFC 2046 §5: these may not be base64-encoded, and multipart is Postern's to build. */
const COMPOSITE_TYPE = /^(?:multipart\/|message\/(?:rfc822|partial|external-body)(?:$|[ \t;]))/i;
const MAX_MEDIA_TYPE = 255;
const MAX_FILENAME_OCTETS = 255;

const encoder = new TextEncoder();

type Ctx = z.RefinementCtx;
const fail = (ctx: Ctx, message: string, enhanced: EnhancedStatus, path: PropertyKey[] = []) => {
  ctx.addIssue({ code: "custom", message, path, params: { enhanced } });
};

const addressInput = z.union(
  [z.string(), z.strictObject({ email: z.string(), name: z.string().optional() })],
  {
    error: 'expected an address: "Name <user@example.com>", "user@example.com" or { "email", "name" }',
  },
);

function address(enhanced: EnhancedStatus) {
  return addressInput.transform((input: AddressInput, ctx): Address => {
    const parsed = parseAddressInput(input);
    if (parsed.ok) return parsed.address;
    fail(ctx, parsed.reason, enhanced, parsed.part ? [parsed.part] : []);
    return z.NEVER;
  });
}

/** A string bound for a header: refused on unsafe characters, then held to `rule` if given. */
const headerText = (allowTab: boolean, rule?: (value: string) => string | null) =>
  z.string().superRefine((value, ctx) => {
    const problem = findUnsafeCharacter(value, { allowTab }) ?? rule?.(value);
    if (problem) fail(ctx, problem, CONTENT);
  });

const attachment = z
  .strictObject({
    filename: headerText(false, (value) => {
      if (value.length === 0) return "must not be empty";
      if (encoder.encode(value).length > MAX_FILENAME_OCTETS)
        return `must be at most ${MAX_FILENAME_OCTETS} octets`;
      return null;
    }),
    content: z.string().transform((value, ctx): Uint8Array => {
      const bytes = decodeBase64(value);
      if (bytes) return bytes;
      fail(ctx, "is not valid base64 (RFC 4648 §4)", CONTENT);
      return z.NEVER;
    }),
    content_type: headerText(false, (value) => {
      if (value.length > MAX_MEDIA_TYPE || !MEDIA_TYPE.test(value)) {
        return "must be a media type such as application/pdf (RFC 2045 §5.1)";
      }
      if (COMPOSITE_TYPE.test(value)) {
        return "multipart and message/rfc822 content cannot be sent as a base64 attachment";
      }
      return null;
    }).optional(),
  })
  .transform(
    (value): SubmissionAttachment => ({
      filename: value.filename,
      contentType: value.content_type ?? "application/octet-stream",
      content: value.content,
    }),
  );

interface ParsedHeaders {
  date?: string;
  messageId?: string;
  sender?: Address;
  fields: SubmissionHeader[];
}

const headers = z.record(z.string(), z.string()).transform((record, ctx): ParsedHeaders => {
  const parsed: ParsedHeaders = { fields: [] };
  const seen = new Set<string>();
  for (const [name, value] of Object.entries(record)) {
    const lower = name.toLowerCase();
    const problem = checkHeader(name, lower, value, seen);
    seen.add(lower);
    if (problem) {
      fail(ctx, problem, CONTENT, [name]);
      continue;
    }
    if (lower === "date") parsed.date = value.trim();
    else if (lower === "message-id") parsed.messageId = value.trim();
    else if (lower === "sender") {
      const sender = parseAddressInput(value);
      if (sender.ok) parsed.sender = sender.address;
      else fail(ctx, sender.reason, SENDER, [name]);
    } else parsed.fields.push({ name, value });
  }
  return parsed;
});

function checkHeader(name: string, lower: string, value: string, seen: ReadonlySet<string>): string | null {
  if (!FIELD_NAME.test(name)) {
    return "header names are 1 to 76 printable ASCII characters other than ':' (RFC 5322 §2.2)";
  }
  const reserved = RESERVED_HEADERS.get(lower); // a Map: "constructor" is just a header name
  if (reserved) return `${name} ${reserved}`;
  if (seen.has(lower)) return "duplicate header (names are case-insensitive)";
  if (lower === "sender") return null; // a mailbox: parseAddressInput checks it, with 5.1.7
  const unsafe = findUnsafeCharacter(value, { allowTab: true });
  if (unsafe) return unsafe;
  if (lower === "date") {
    return RFC5322_DATE_TIME.test(value.trim())
      ? null
      : "must be an RFC 5322 date-time: Tue, 1 Jul 2025 09:00:00 +0000";
  }
  if (lower === "message-id")
    return isMessageId(value.trim()) ? null : "must be <id@domain> (RFC 5322 §3.6.4)";
  if (UNSTRUCTURED_CUSTOM.test(name)) return null;
  if (!ASCII.test(value)) {
    return "non-ASCII text is only allowed in X-* and Comments headers (RFC 2047 encodes unstructured fields only)";
  }
  const start = name.length + 2;
  if (!fitsLineLimit(start, foldUnstructured(start, value))) {
    return "has a word too long to fold within the 998-octet line limit (RFC 5322 §2.1.1)";
  }
  return null;
}

const submission = z
  .strictObject({
    from: address(SENDER),
    to: z.array(address(RECIPIENT)).optional(),
    cc: z.array(address(RECIPIENT)).optional(),
    bcc: z.array(address(RECIPIENT)).optional(),
    // one address or a list; a single one is reported as reply_to[0]
    reply_to: z.preprocess(
      (value) => (value === undefined || Array.isArray(value) ? value : [value]),
      z.array(address(RECIPIENT)).optional(),
    ),
    subject: headerText(true),
    text: z.string().optional(),
    html: z.string().optional(),
    headers: headers.optional(),
    attachments: z.array(attachment).optional(),
  })
  .transform((input, ctx): Submission => {
    const to = input.to ?? [];
    const cc = input.cc ?? [];
    const bcc = input.bcc ?? [];
    const attachments = input.attachments ?? [];
    if (to.length + cc.length + bcc.length === 0) {
      fail(ctx, "at least one recipient (to, cc or bcc) is required", "5.5.1", ["to"]);
    }
    if (input.text === undefined && input.html === undefined && attachments.length === 0) {
      fail(ctx, "text, html or at least one attachment is required", "5.5.2", ["text"]);
    }
    const { date, messageId, sender, fields } = input.headers ?? { fields: [] };
    return {
      from: input.from,
      to,
      cc,
      bcc,
      replyTo: input.reply_to ?? [],
      subject: input.subject,
      ...(input.text !== undefined && { text: input.text }),
      ...(input.html !== undefined && { html: input.html }),
      ...(date !== undefined && { date }),
      ...(messageId !== undefined && { messageId }),
      ...(sender !== undefined && { sender }),
      headers: fields,
      attachments,
    };
  });

/** The zod schema (input: the JSON body; output: Submission). */
export const submissionSchema: z.ZodType<Submission, unknown> = submission;

export function parseSubmission(
  json: unknown,
): { ok: true; value: Submission } | { ok: false; errors: SubmissionError[] } {
  const result = submission.safeParse(json);
  if (result.success) return { ok: true, value: result.data };
  return { ok: false, errors: result.error.issues.flatMap(toErrors) };
}

function toErrors(issue: z.core.$ZodIssue): SubmissionError[] {
  if (issue.code === "unrecognized_keys") {
    return issue.keys.map((key) => ({
      field: fieldName([...issue.path, key]),
      message: "unknown field",
      enhanced: "5.5.2",
    }));
  }
  const enhanced =
    (issue.code === "custom" && (issue.params?.["enhanced"] as EnhancedStatus | undefined)) || "5.5.2";
  const missing = issue.code === "invalid_type" && issue.message.endsWith("received undefined");
  return [{ field: fieldName(issue.path), message: missing ? "is required" : issue.message, enhanced }];
}

function fieldName(path: readonly PropertyKey[]): string {
  let out = "";
  for (const part of path) {
    if (typeof part === "number") out += `[${part}]`;
    else out += out === "" ? String(part) : `.${String(part)}`;
  }
  return out === "" ? "body" : out;
}
