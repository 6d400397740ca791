// STARTTLS (RFC 3207). After "220 2.0.0 Ready to start TLS" nothing the client sent in plaintext
// may count: bytes pipelined after the command are dropped (the injection of CVE-2011-0411), and so
// is anything that still arrives before the driver reports the handshake. The session then starts
// over, as §4.2 requires: no HELO, no AUTH, no transaction.
import { REPLIES } from "./replies.ts";
import type { SessionCore } from "./session-core.ts";
import type { TlsInfo } from "./session-ports.ts";

export function starttlsCommand(core: SessionCore, args: string) {
  if (args.trim() !== "") return core.reply(REPLIES.syntax("STARTTLS"));
  if (core.tls !== null) return core.reply(REPLIES.tlsAlreadyActive);
  if (!core.tlsAvailable || core.config.tlsSecurityLevel === "none")
    return core.reply(REPLIES.notImplemented);
  if (core.config.heloRequired && !core.helo) return core.reply(REPLIES.sendHeloFirst);
  core.reply(REPLIES.readyToStartTls);
  core.output({ kind: "starttls" });
  const dropped = core.input.clear();
  if (dropped > 0) {
    core.warn(`warning: ${core.peer}: discarding ${dropped} bytes of plaintext pipelined after STARTTLS`);
  }
  core.helo = null;
  core.sasl = null;
  core.resetTransaction();
  core.mode = { kind: "tls-wait" };
}

/** The driver finished the handshake. */
export function tlsStarted(core: SessionCore, info: TlsInfo): void {
  if (core.mode.kind !== "tls-wait") return;
  core.tls = info;
  core.input.clear();
  core.mode = { kind: "command" };
}
