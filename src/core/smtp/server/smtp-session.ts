// One SMTP server session as a state machine: the driver feeds it what the client sent and carries
// out what comes back (write a reply, wait, start TLS, close). It never does I/O itself, so every
// behaviour is a transcript test, and splitting the input differently changes nothing but the
// pipelining checks, which by design look at what was sent before a reply was due.
//
// Driving it:
//   greet()            when the banner is due (after an optional pregreet wait); input fed
//                      before it is early talk: 554 and close (smtpd_forbid_unauth_pipelining)
//   feed(bytes)        whatever the socket read; calls are serialized, outputs come in order
//   tlsStarted(info)   after a { kind: "starttls" } output and a finished handshake
//   timeout()          the client was idle too long (smtpd_timeout, the driver's clock)
//   end()              the client closed the connection
import { printable } from "../../printable.ts";
import { authResponse } from "./auth.ts";
import { bdatInput } from "./bdat.ts";
import {
  AUTH_COMMAND_OVERHEAD,
  FORBIDDEN_COMMANDS,
  findCommand,
  PATH_COMMAND_LINE_LIMIT,
} from "./commands.ts";
import { dataEnd, dataInput } from "./data.ts";
import type { LineRead } from "./input-buffer.ts";
import { REPLIES } from "./replies.ts";
import type { SessionConfig } from "./session-config.ts";
import { SessionCore } from "./session-core.ts";
import type { ClientInfo, SessionOutput, SessionPorts, TlsInfo } from "./session-ports.ts";
import { tlsStarted } from "./starttls.ts";

export interface SmtpSessionOptions {
  config: SessionConfig;
  ports: SessionPorts;
  client: ClientInfo;
  /** TLS from the first byte (implicit TLS, smtpd_tls_wrappermode): STARTTLS is not offered. */
  tls?: TlsInfo | null;
  /** The listener has a certificate, so STARTTLS may be offered (smtpd_tls_security_level). */
  tlsAvailable?: boolean;
}

const decoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

export class SmtpSession {
  readonly #core: SessionCore;
  /** The work in progress: feed() calls run one after another. */
  #tail: Promise<unknown> = Promise.resolve();

  constructor(options: SmtpSessionOptions) {
    this.#core = new SessionCore(
      options.config,
      options.ports,
      options.client,
      options.tls ?? null,
      options.tlsAvailable ?? false,
    );
  }

  /** The session ended: the driver closes the connection once the outputs are written. */
  get closed(): boolean {
    return this.#core.closed;
  }

  /** The 220 banner, then the answers to anything that was already fed. */
  greet(): Promise<SessionOutput[]> {
    const core = this.#core;
    if (core.closed || core.greeted) return Promise.resolve(core.takeOutputs());
    core.greeted = true;
    core.info(`connect from ${core.peer}`);
    core.reply(REPLIES.greeting(core.config.hostname));
    return this.#run();
  }

  feed(bytes: Uint8Array): Promise<SessionOutput[]> {
    const core = this.#core;
    if (core.closed) return Promise.resolve([]);
    if (!core.greeted) return Promise.resolve(this.#earlyTalk(bytes));
    // Plaintext after the STARTTLS reply, before the handshake: never a command.
    if (core.mode.kind === "tls-wait") return Promise.resolve([]);
    core.input.append(bytes);
    return this.#run();
  }

  /** The TLS handshake after { kind: "starttls" } is done; the client starts over with EHLO. */
  tlsStarted(info: TlsInfo = {}): void {
    tlsStarted(this.#core, info);
  }

  /** The client was idle past the driver's timeout: 421 and close. */
  timeout(): SessionOutput[] {
    const core = this.#core;
    if (core.closed) return [];
    core.info(`timeout after ${core.where} from ${core.peer}`);
    core.reply(REPLIES.timeout(core.config.hostname));
    core.close();
    return core.takeOutputs();
  }

  /** The client closed the connection (or it broke); resolves once work in progress is done. */
  async end(): Promise<void> {
    await this.#tail;
    const core = this.#core;
    if (core.closed) return core.settle();
    if (core.mode.kind !== "command") core.endCommand(true);
    core.info(`lost connection after ${core.where} from ${core.peer}`);
    core.mode = { kind: "closed" };
    core.input.clear();
    core.resetTransaction(); // a message cut off mid-content is dropped
    core.logDisconnect();
    await core.settle();
  }

  #earlyTalk(bytes: Uint8Array): SessionOutput[] {
    const core = this.#core;
    if (!core.config.forbidUnauthPipelining) {
      core.input.append(bytes);
      return [];
    }
    core.info(`improper command pipelining after CONNECT from ${core.peer}: ${preview(bytes)}`);
    core.reply(REPLIES.protocolSynchronization);
    core.close();
    return core.takeOutputs();
  }

  #run(): Promise<SessionOutput[]> {
    const run = this.#tail.then(async () => {
      try {
        await this.#process();
        await this.#core.settle();
      } catch (error) {
        // A port threw where it should have answered: end the session rather than guess.
        const core = this.#core;
        core.ports.logger.error(
          `error: ${core.peer}: ${error instanceof Error ? error.message : String(error)}`,
        );
        core.reply(REPLIES.internalError(core.config.hostname));
        core.close();
      }
      return this.#core.takeOutputs();
    });
    this.#tail = run.catch(() => {});
    return run;
  }

  async #process(): Promise<void> {
    const core = this.#core;
    const { config } = core;
    for (;;) {
      const mode = core.mode;
      switch (mode.kind) {
        case "closed":
          return;
        case "tls-wait":
          core.input.clear();
          return;
        case "command": {
          // Postfix checks before reading the next command, so the 421 follows the last error.
          if (core.errors >= config.hardErrorLimit) {
            core.info(`too many errors after ${core.where} from ${core.peer}`);
            core.reply(REPLIES.tooManyErrors(config.hostname));
            core.close();
            return;
          }
          const limit = Math.max(PATH_COMMAND_LINE_LIMIT, config.saslResponseLimit + AUTH_COMMAND_OVERHEAD);
          const read = core.input.readLine(limit);
          if (!read) return;
          await this.#command(read);
          break;
        }
        case "auth": {
          const read = core.input.readLine(config.saslResponseLimit);
          if (!read) return;
          await authResponse(core, mode.exchange, read);
          break;
        }
        case "data": {
          const progress = mode.reader.consume(core.input);
          if (progress.kind !== "bare-newline") await dataInput(core, mode.reader);
          if (progress.kind === "more") return;
          await dataEnd(core, mode.reader, progress);
          break;
        }
        case "bdat":
          if (mode.chunk.remaining > 0 && core.input.pending === 0) return;
          await bdatInput(core, mode.chunk);
          break;
      }
    }
  }

  async #command(read: LineRead): Promise<void> {
    const core = this.#core;
    if (read.kind === "too-long") {
      core.beginCommand("unknown");
      return core.reply(REPLIES.lineTooLong);
    }
    if (read.ending === "lf" && core.bareNewline === "reject") {
      core.beginCommand("unknown");
      core.info(`${core.peer}: command line ending in bare <LF>: ${preview(read.bytes)}`);
      return core.reply(REPLIES.bareNewline(core.config.forbidBareNewlineRejectCode, "LF"));
    }
    let line: string;
    try {
      line = decoder.decode(read.bytes);
    } catch {
      core.beginCommand("unknown");
      return core.reply(REPLIES.badUtf8);
    }
    const match = /^([^ \t]*)[ \t]*(.*)$/s.exec(line)!;
    const verb = match[1]!;
    const args = match[2]!;
    if (verb === "") {
      core.beginCommand("unknown");
      return core.reply(REPLIES.badSyntax);
    }
    if (FORBIDDEN_COMMANDS.includes(verb.toUpperCase())) {
      core.beginCommand("unknown");
      core.warn(`warning: non-SMTP command from ${core.peer}: ${printable(line, 100)}`);
      core.reply(REPLIES.forbiddenCommand);
      return core.close();
    }
    const spec = findCommand(verb);
    core.beginCommand(spec ? verb.toLowerCase() : "unknown");
    if (!spec) return core.reply(REPLIES.notRecognized);
    const lineLimit =
      verb.toUpperCase() === "AUTH" ? core.config.saslResponseLimit + AUTH_COMMAND_OVERHEAD : spec.lineLimit;
    if (read.bytes.length + 2 > lineLimit) return core.reply(REPLIES.lineTooLong);
    // RFC 2920 §3.1 / smtpd_forbid_unauth_pipelining: input already waiting after a command that
    // must end a group, or from a client never told PIPELINING, was sent without reading replies.
    if (
      core.config.forbidUnauthPipelining &&
      !spec.unchecked &&
      (spec.last || !core.pipelining) &&
      core.input.pending > 0
    ) {
      core.info(
        `improper command pipelining after ${core.where} from ${core.peer}: ${preview(core.input.peek(100))}`,
      );
      core.reply(REPLIES.protocolSynchronization);
      return core.close();
    }
    if (core.tlsRequired && !spec.preTls) return core.reply(REPLIES.mustStartTls);
    await spec.run(core, args, read.ending);
  }
}

/** The first line of what a client sent, for a log line; an AUTH initial response is a secret. */
export function preview(bytes: Uint8Array): string {
  const text = new TextDecoder().decode(bytes.subarray(0, 100));
  const line = (text.split(/\r?\n/)[0] ?? "").replace(/^(AUTH[ \t]+[^ \t]+)[ \t].*$/is, "$1 ...");
  return printable(line, 100);
}
