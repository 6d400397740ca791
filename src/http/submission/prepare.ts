// Turns what a client sent into the envelope and bytes of one message: JSON composed with
// mimetext, or a raw message/rfc822 with its envelope in the query. Faults are ProblemErrors that
// name the field, with the enhanced status an SMTP server would have given.
import type { Settings } from "../../core/config/settings.ts";
import { parseMailbox } from "../../core/mail/address.ts";
import { composeMessage } from "../../core/message/compose.ts";
import { prepareRawMessage } from "../../core/message/raw.ts";
import { parseSubmission } from "../../core/message/submission-schema.ts";
import { printable } from "../../core/printable.ts";
import { ProblemError } from "../problem.ts";
import { tooLarge } from "../read-body.ts";

export interface Prepared {
  mailFrom: string;
  recipients: string[];
  bytes: Uint8Array;
  headerMessageId: string | null;
  eightBit: boolean;
  smtputf8: boolean;
}

/** base64 and JSON framing around a message of message_size_limit bytes. */
export const jsonLimit = (messageLimit: number) => Math.ceil(messageLimit * 1.4) + 64 * 1024;

export function parseJsonBytes(bytes: Uint8Array): unknown {
  try {
    return JSON.parse(new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(bytes));
  } catch {
    throw new ProblemError({
      slug: "malformed-request",
      title: "Malformed request",
      status: 400,
      detail: "The body is not valid UTF-8 JSON",
      smtpStatus: "5.5.2",
    });
  }
}

/** One message of the JSON API (POST /v1/messages, an item of a batch, RPC send). */
export function prepareJson(json: unknown, settings: Settings, limit: number): Prepared {
  const parsed = parseSubmission(json);
  if (!parsed.ok) {
    const first = parsed.errors[0];
    throw new ProblemError({
      slug: "invalid-message",
      title: "Invalid message",
      status: 422,
      detail: parsed.errors.map((e) => `${e.field}: ${e.message}`).join("; "),
      smtpStatus: first?.enhanced,
      extra: { errors: parsed.errors },
    });
  }
  const composed = composeMessage(parsed.value, { hostname: settings.get("myhostname") });
  if (composed.bytes.byteLength > limit) throw tooLarge(limit);
  return {
    mailFrom: composed.envelope.mailFrom,
    recipients: composed.envelope.recipients,
    bytes: composed.bytes,
    headerMessageId: composed.messageId,
    eightBit: composed.bytes.some((b) => b >= 0x80),
    smtputf8: needsSmtputf8(composed.envelope.mailFrom, composed.envelope.recipients),
  };
}

/** A raw message/rfc822 upload; the envelope comes from ?from= and ?to=. */
export function prepareRaw(bytes: Uint8Array, url: URL, limit: number): Prepared {
  const fromParam = url.searchParams.get("from");
  if (fromParam === null)
    throw badAddress(
      "from",
      "the envelope sender is required (?from=address, or ?from=<> for the null sender)",
      "5.1.7",
    );
  const mailFrom = fromParam === "<>" ? "" : fromParam;
  if (mailFrom !== "") {
    const parsed = parseMailbox(mailFrom);
    if (!parsed.ok) throw badAddress("from", parsed.reason, "5.1.7");
  }
  const recipients: string[] = [];
  const seen = new Set<string>();
  for (const value of url.searchParams.getAll("to").flatMap((v) => v.split(","))) {
    const address = value.trim();
    if (address === "") continue;
    const parsed = parseMailbox(address);
    if (!parsed.ok) throw badAddress("to", `${printable(address)}: ${parsed.reason}`, "5.1.3");
    const folded = address.toLowerCase();
    if (!seen.has(folded)) recipients.push(address);
    seen.add(folded);
  }
  if (recipients.length === 0)
    throw badAddress("to", "at least one recipient is required (?to=address)", "5.5.1");
  const raw = prepareRawMessage(bytes, { maxSize: limit });
  if (!raw.ok) {
    if (raw.enhanced === "5.3.4") throw tooLarge(limit);
    throw new ProblemError({
      slug: "invalid-message",
      title: "Invalid message",
      status: 422,
      detail: raw.reason,
      smtpStatus: raw.enhanced,
    });
  }
  return {
    mailFrom,
    recipients,
    bytes: raw.bytes,
    headerMessageId: raw.messageId,
    eightBit: raw.eightBit,
    smtputf8: needsSmtputf8(mailFrom, recipients),
  };
}

const needsSmtputf8 = (mailFrom: string, recipients: string[]) =>
  [mailFrom, ...recipients].some((a) => /[^\x00-\x7f]/.test(a));

function badAddress(field: string, reason: string, enhanced: string): ProblemError {
  return new ProblemError({
    slug: "invalid-address",
    title: "Invalid address",
    status: 422,
    detail: `${field}: ${reason}`,
    smtpStatus: enhanced,
    extra: { errors: [{ field, message: reason, enhanced }] },
  });
}
