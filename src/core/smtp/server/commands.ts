// The command table: each verb, the stage that runs it, and the flags the dispatcher checks first
// (Postfix's smtpd_cmd_table). Verbs not listed get 502; EXPN, ETRN, TURN and XCLIENT are not
// implemented on purpose.
import { authCommand } from "./auth.ts";
import { helpCommand, noopCommand, quitCommand, rsetCommand, vrfyCommand } from "./basic-commands.ts";
import { bdatCommand } from "./bdat.ts";
import { dataCommand } from "./data.ts";
import { ehloCommand, heloCommand } from "./helo.ts";
import { mailCommand } from "./mail.ts";
import { rcptCommand } from "./rcpt.ts";
import type { SessionCore } from "./session-core.ts";
import { starttlsCommand } from "./starttls.ts";

export interface CommandSpec {
  run(core: SessionCore, args: string, ending: "crlf" | "lf"): void | Promise<void>;
  /** Must end a pipelined group (RFC 2920 §3.1): nothing may be buffered after it. */
  readonly last: boolean;
  /** Allowed before STARTTLS when smtpd_tls_security_level = encrypt. */
  readonly preTls: boolean;
  /**
   * Not subject to the pipelining check: BDAT's chunk follows at once, STARTTLS drops what follows,
   * QUIT ends the session.
   */
  readonly unchecked?: boolean;
  /** The longest command line, CRLF included. */
  readonly lineLimit: number;
}

/** RFC 5321 §4.5.3.1.4. */
export const COMMAND_LINE_LIMIT = 512;
/**
 * MAIL and RCPT: 512 octets plus what SIZE= (RFC 1870), AUTH= (RFC 4954 §5: 500), ENVID=/RET=
 * and ORCPT=/NOTIFY= (RFC 3461 §4) may add; Postfix's line_length_limit.
 */
export const PATH_COMMAND_LINE_LIMIT = 2048;
/** AUTH's initial response may be as long as a response (smtpd_sasl_response_limit, RFC 4954 §4). */
export const AUTH_COMMAND_OVERHEAD = 64;

const plain = { last: false, preTls: false, lineLimit: COMMAND_LINE_LIMIT } as const;

export const COMMANDS = {
  EHLO: { ...plain, run: ehloCommand, last: true, preTls: true },
  HELO: { ...plain, run: heloCommand, last: true, preTls: true },
  STARTTLS: { ...plain, run: starttlsCommand, preTls: true, unchecked: true },
  // lineLimit is raised to smtpd_sasl_response_limit by the dispatcher.
  AUTH: { ...plain, run: authCommand },
  MAIL: { ...plain, run: mailCommand, lineLimit: PATH_COMMAND_LINE_LIMIT },
  RCPT: { ...plain, run: rcptCommand, lineLimit: PATH_COMMAND_LINE_LIMIT },
  DATA: { ...plain, run: dataCommand, last: true },
  // BDAT makes its own checks: its chunk must be read even when it is refused.
  BDAT: { ...plain, run: bdatCommand, preTls: true, unchecked: true },
  RSET: { ...plain, run: rsetCommand, preTls: true },
  NOOP: { ...plain, run: noopCommand, last: true, preTls: true },
  VRFY: { ...plain, run: vrfyCommand, last: true },
  HELP: { ...plain, run: helpCommand, last: true, preTls: true },
  QUIT: { ...plain, run: quitCommand, preTls: true, unchecked: true },
} as const satisfies Record<string, CommandSpec>;

export type CommandName = keyof typeof COMMANDS;

export function findCommand(verb: string): CommandSpec | null {
  const upper = verb.toUpperCase();
  return Object.hasOwn(COMMANDS, upper) ? COMMANDS[upper as CommandName] : null;
}

/** HTTP request lines sent to an SMTP port (Postfix's smtpd_forbidden_commands): a browser attack. */
export const FORBIDDEN_COMMANDS: readonly string[] = ["CONNECT", "GET", "POST"];
