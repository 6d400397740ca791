// Policy replies (4xx/5xx with an RFC 3463 code), built the way Postfix's smtpd_check_reject() does:
// a code outside 400-599 or a malformed enhanced code is a configuration error answered with a
// generic 450; the enhanced code's class always follows the reply code ("SMTP has the higher
// precedence"); the text is made printable and bounded.
import { printable } from "../printable.ts";

export interface SmtpReply {
  code: number;
  enhanced: string;
  text: string;
}

const ENHANCED = /^[245]\.\d{1,3}\.\d{1,3}$/;
// 512 octets per reply line (RFC 5321 §4.5.3.1.5), minus "NNN X.YYY.ZZZ " and CRLF.
const MAX_TEXT = 490;
const SERVICE_UNAVAILABLE: SmtpReply = { code: 450, enhanced: "4.7.1", text: "Service unavailable" };

export function makeReply(code: number, enhanced: string, text: string): SmtpReply {
  if (!Number.isInteger(code) || code < 400 || code > 599 || !ENHANCED.test(enhanced)) {
    return { ...SERVICE_UNAVAILABLE };
  }
  const klass = String(code)[0] as string;
  return { code, enhanced: klass + enhanced.slice(1), text: printable(text, MAX_TEXT) };
}

/** "554 5.7.1 <x@y>: Relay access denied" */
export function renderReply(reply: SmtpReply): string {
  return reply.enhanced ? `${reply.code} ${reply.enhanced} ${reply.text}` : `${reply.code} ${reply.text}`;
}

/** Postfix's reject_server_error(): an unknown restriction or access action, a broken table. */
export const SERVER_CONFIGURATION_ERROR: Readonly<SmtpReply> = Object.freeze({
  code: 451,
  enhanced: "4.3.5",
  text: "Server configuration error",
});
