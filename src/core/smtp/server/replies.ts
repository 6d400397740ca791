// Every reply the SMTP server sends (DESIGN "Every SMTP reply comes from one catalog"): Postfix's
// texts (smtpd.c, smtpd_sasl_glue.c, reference/postfix-semantics.md) with the RFC that defines the
// code. Enhanced status codes (RFC 3463, RFC 2034) are on every 2xx/4xx/5xx reply except the
// greeting and the HELO/EHLO replies, which RFC 2034 §3 exempts.
import type { SmtpReply } from "../../policy/smtp-reply.ts";

export interface ServerReply {
  readonly code: number;
  /** The RFC 3463 code; empty for replies that carry none (220 greeting, EHLO, 334, 354). */
  readonly enhanced: string;
  /** One text per reply line (EHLO has several). */
  readonly lines: readonly string[];
}

const reply = (code: number, enhanced: string, text: string): ServerReply => ({
  code,
  enhanced,
  lines: [text],
});

export const REPLIES = {
  // RFC 5321 §4.2, §4.3.2: the greeting and the replies every command may get.
  greeting: (host: string) => reply(220, "", `${host} ESMTP Postern`),
  helo: (host: string) => reply(250, "", host),
  ok: reply(250, "2.0.0", "Ok"),
  bye: reply(221, "2.0.0", "Bye"),
  help: reply(214, "2.0.0", "Commands: EHLO HELO STARTTLS AUTH MAIL RCPT DATA BDAT RSET NOOP QUIT"),
  badSyntax: reply(500, "5.5.2", "Error: bad syntax"),
  // RFC 5321 §4.5.3.1.4: 500 for a command line beyond the limit.
  lineTooLong: reply(500, "5.5.2", "Error: line too long"),
  // RFC 6531 §3.2: commands are UTF-8 at most.
  badUtf8: reply(500, "5.5.2", "Error: bad UTF-8 syntax"),
  notRecognized: reply(502, "5.5.2", "Error: command not recognized"),
  notImplemented: reply(502, "5.5.1", "Error: command not implemented"),
  vrfyDisabled: reply(502, "5.5.1", "VRFY command is disabled"),
  syntax: (usage: string) => reply(501, "5.5.4", `Syntax: ${usage}`),
  sendHeloFirst: reply(503, "5.5.1", "Error: send HELO/EHLO first"),
  needMail: reply(503, "5.5.1", "Error: need MAIL command"),
  needRcpt: reply(503, "5.5.1", "Error: need RCPT command"),
  nestedMail: reply(503, "5.5.1", "Error: nested MAIL command"),
  noValidRecipients: reply(554, "5.5.1", "Error: no valid recipients"),
  dataAfterBdat: reply(503, "5.5.1", "Error: DATA after BDAT"),
  // Postfix's smtpd_forbidden_commands answer to HTTP requests sent to an SMTP port.
  forbiddenCommand: reply(221, "2.7.0", "Error: I can break rules, too. Goodbye."),
  // RFC 2920 §3.1 and Postfix's smtpd_forbid_unauth_pipelining.
  protocolSynchronization: reply(554, "5.5.0", "Error: SMTP protocol synchronization"),
  tooManyErrors: (host: string) => reply(421, "4.7.0", `${host} Error: too many errors`),
  timeout: (host: string) => reply(421, "4.4.2", `${host} Error: timeout exceeded`),
  // A port failed in a way it should not (a bug): the session ends rather than guess.
  internalError: (host: string) => reply(421, "4.3.0", `${host} Error: internal error`),

  // RFC 3207 STARTTLS.
  readyToStartTls: reply(220, "2.0.0", "Ready to start TLS"),
  tlsAlreadyActive: reply(554, "5.5.1", "Error: TLS already active"),
  mustStartTls: reply(530, "5.7.0", "Must issue a STARTTLS command first"),

  // RFC 4954 AUTH.
  challenge: (base64: string) => reply(334, "", base64),
  authenticated: reply(235, "2.7.0", "Authentication successful"),
  authFailed: reply(535, "5.7.8", "Error: authentication failed: authentication failure"),
  authTemporary: reply(454, "4.7.0", "Temporary authentication failure"),
  authAborted: reply(501, "5.7.0", "Authentication aborted"),
  cannotDecode: reply(501, "5.5.2", "cannot decode response"),
  alreadyAuthenticated: reply(503, "5.5.1", "Error: already authenticated"),
  mailInProgress: reply(503, "5.5.1", "Error: MAIL transaction in progress"),
  authNotEnabled: reply(503, "5.5.1", "Error: authentication not enabled"),
  unrecognizedMechanism: reply(504, "5.5.4", "Unrecognized authentication type"),
  saslResponseTooLong: reply(500, "5.5.6", "SASL response limit exceeded"),
  encryptionRequired: reply(538, "5.7.11", "Encryption required for requested authentication mechanism"),
  tooManyAuth: (address: string) => reply(450, "4.7.1", `Error: too many AUTH commands from ${address}`),

  // RFC 5321 §4.1.1.2-4.1.1.4 and the extensions' parameters (RFC 1870, 6152, 6531, 3461, 4954 §5).
  senderOk: reply(250, "2.1.0", "Ok"),
  recipientOk: reply(250, "2.1.5", "Ok"),
  badSender: reply(501, "5.1.7", "Bad sender address syntax"),
  badRecipient: reply(501, "5.1.3", "Bad recipient address syntax"),
  unicodeWithoutSmtputf8: reply(553, "5.6.7", "Must declare SMTPUTF8 to send unicode address"),
  unsupportedOption: (option: string) => reply(555, "5.5.4", `Unsupported option: ${option}`),
  badParameter: (what: string) => reply(501, "5.5.4", `Bad ${what} parameter syntax`),
  duplicateParameter: (keyword: string) => reply(501, "5.5.4", `Duplicate ${keyword} parameter`),
  multipleAuthOptions: reply(503, "5.5.4", "Error: multiple AUTH= options"),
  sizeExceeded: reply(552, "5.3.4", "Message size exceeds fixed limit"),
  tooManyRecipients: reply(452, "4.5.3", "Error: too many recipients"),

  // RFC 5321 §4.1.1.4 DATA, RFC 3030 BDAT.
  startData: reply(354, "", "End data with <CR><LF>.<CR><LF>"),
  queued: (queueId: string) => reply(250, "2.0.0", `Ok: queued as ${queueId}`),
  chunkOk: (bytes: number) => reply(250, "2.0.0", `Ok: ${bytes} bytes`),
  // Postfix's smtpd_forbid_bare_newline (SMTP smuggling): in content, the connection is closed.
  // The enhanced code's class follows the configured reply code (RFC 3463 §2).
  bareNewline: (code: number, what: "LF" | "CR") =>
    reply(code, `${String(code)[0]}.5.2`, `Error: bare <${what}> received`),
  queueWriteError: reply(451, "4.3.0", "Error: queue file write error"),
} as const;

/** A policy reply (evaluateRecipient's) as a server reply. */
export function fromSmtpReply(smtpReply: SmtpReply): ServerReply {
  return reply(smtpReply.code, smtpReply.enhanced, smtpReply.text);
}

/** The wire form: `250-first` lines and a `250 last` line, each ended by CRLF. */
export function formatReply(serverReply: ServerReply): string {
  const { code, enhanced, lines } = serverReply;
  const prefix = enhanced ? `${enhanced} ` : "";
  return lines
    .map((text, i) => {
      const separator = i < lines.length - 1 ? "-" : " ";
      // A 334 with an empty challenge is "334 " (RFC 4954 §4).
      return `${code}${separator}${prefix}${text}\r\n`;
    })
    .join("");
}
