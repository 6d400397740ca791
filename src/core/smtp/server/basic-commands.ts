// The commands without a stage of their own (RFC 5321 §4.1.1.5-4.1.1.10): RSET, NOOP, QUIT, and
// VRFY and HELP, which Postern answers without disclosing anything (disable_vrfy_command = yes).
import { REPLIES } from "./replies.ts";
import type { SessionCore } from "./session-core.ts";

export function rsetCommand(core: SessionCore, args: string) {
  if (args.trim() !== "") return core.reply(REPLIES.syntax("RSET"));
  core.resetTransaction();
  core.reply(REPLIES.ok);
}

export function noopCommand(core: SessionCore): void {
  core.reply(REPLIES.ok);
}

export function quitCommand(core: SessionCore): void {
  core.reply(REPLIES.bye);
  core.close();
}

export function vrfyCommand(core: SessionCore): void {
  core.reply(REPLIES.vrfyDisabled);
}

export function helpCommand(core: SessionCore): void {
  core.reply(REPLIES.help);
}
