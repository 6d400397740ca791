// AUTH (RFC 4954) over the mechanism table: the SMTP glue that turns SaslStatus into replies.
//
//   more       334 <base64 challenge>
//   done       235 2.7.0 (with additional data: 334 <data>, an empty line, then 235; RFC 4954 §4)
//   fail       535 5.7.8 with a generic text (the reason goes to the log only); with an error
//              challenge (OAUTHBEARER, RFC 7628 §3.2.2): 334 <error>, the client's dummy answer, 535
//   temp       454 4.7.0
//   malformed  501 5.5.2
//
// Failures are logged in Postfix's shape for fail2ban:
//   warning: host[addr]: SASL PLAIN authentication failed: <reason>, sasl_username=<login>
import { base64ToBytes, bytesToBase64 } from "../../encoding/base64.ts";
import { matchNetwork } from "../../policy/network-list.ts";
import type { MechanismSpec, MechanismState, SaslServerContext, Step } from "../../sasl/mechanism.ts";
import type { LineRead } from "./input-buffer.ts";
import { REPLIES } from "./replies.ts";
import type { AuthExchange, SessionCore } from "./session-core.ts";
import type { AuthPort, AuthTransport } from "./session-ports.ts";

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const latin1 = new TextDecoder("latin1");

/** AUTH is on for this client: smtpd_sasl_auth_enable, a SASL port, not an exception network. */
function authPort(core: SessionCore): AuthPort | null {
  const port = core.ports.auth;
  if (!core.config.saslAuthEnable || !port) return null;
  if (matchNetwork(core.config.saslExceptionsNetworks, core.client.address)) return null;
  return port;
}

/** Neither announced nor accepted before TLS (smtpd_tls_auth_only; implied by encrypt). */
function needsTls(core: SessionCore): boolean {
  return core.tls === null && (core.config.tlsAuthOnly || core.config.tlsSecurityLevel === "encrypt");
}

/** What EHLO announces after AUTH. */
export async function announcedMechanisms(core: SessionCore): Promise<readonly MechanismSpec[]> {
  const port = authPort(core);
  if (!port || needsTls(core)) return [];
  return offered(core, port, core.authTransport());
}

// A broken mechanism policy or an unreachable back end (Dovecot) leaves AUTH out, as Postfix does
// when its SASL server cannot start; the listener keeps serving everyone else.
async function offered(
  core: SessionCore,
  port: AuthPort,
  transport: AuthTransport,
): Promise<readonly MechanismSpec[]> {
  try {
    return await port.offered(transport);
  } catch (error) {
    core.warn(`warning: SASL mechanisms unavailable: ${describe(error)}`);
    return [];
  }
}

export async function authCommand(core: SessionCore, args: string): Promise<void> {
  const port = authPort(core);
  if (!port) return core.reply(REPLIES.authNotEnabled);
  // smtpd_client_auth_rate_limit counts every AUTH command, accepted or not (anvil).
  const limit = core.config.clientAuthRateLimit;
  if (limit > 0 && core.ports.authRate) {
    const count = await core.ports.authRate.hit(`auth:${core.client.address}`, core.config.rateTimeUnitMs);
    if (count > limit) {
      core.warn(
        `warning: Authentication command rate limit exceeded: ${count} from ${core.peer} for service smtp`,
      );
      return core.reply(REPLIES.tooManyAuth(core.client.address));
    }
  }
  if (!core.helo) return core.reply(REPLIES.sendHeloFirst);
  if (core.sasl) return core.reply(REPLIES.alreadyAuthenticated);
  if (core.transaction) return core.reply(REPLIES.mailInProgress);
  const words = args.split(/[ \t]+/).filter((word) => word !== "");
  if (words.length < 1 || words.length > 2) return core.reply(REPLIES.syntax("AUTH mechanism"));
  const name = words[0]!.toUpperCase();
  const transport = core.authTransport();
  // RFC 4954 §6: 538, where Postfix would say 504.
  if (needsTls(core)) return core.reply(REPLIES.encryptionRequired);
  const spec = (await offered(core, port, transport)).find((candidate) => candidate.name === name);
  if (!spec) {
    if (!transport.tls) {
      const withTls = await offered(core, port, { ...transport, tls: true });
      if (withTls.some((candidate) => candidate.name === name)) return core.reply(REPLIES.encryptionRequired);
    }
    return core.reply(REPLIES.unrecognizedMechanism);
  }
  let initial: Uint8Array | null = null;
  if (words[1] !== undefined) {
    // RFC 4954 §4: "=" is an initial response of zero length.
    initial = words[1] === "=" ? new Uint8Array() : decode(words[1]);
    if (initial === null) return core.reply(REPLIES.cannotDecode);
  }
  const exchange = new Exchange(core, port, spec, port.context(transport));
  await exchange.handle(() => spec.server.start(exchange.context, initial));
}

/** A response line while an exchange waits for one. */
export async function authResponse(core: SessionCore, exchange: AuthExchange, read: LineRead): Promise<void> {
  core.mode = { kind: "command" };
  if (read.kind === "too-long") return core.reply(REPLIES.saslResponseTooLong);
  const line = latin1.decode(read.bytes);
  if (line === "*") {
    core.warn(`warning: ${core.peer}: SASL ${exchange.mechanism} authentication aborted`);
    return core.reply(REPLIES.authAborted);
  }
  await exchange.respond(line);
}

class Exchange implements AuthExchange {
  readonly #core: SessionCore;
  readonly #port: AuthPort;
  readonly #spec: MechanismSpec;
  readonly context: SaslServerContext;
  #state: MechanismState = {};
  #phase: "step" | "success" | "failed" = "step";
  /** The login to record once the client acknowledged the additional data. */
  #login: string | null = null;

  constructor(core: SessionCore, port: AuthPort, spec: MechanismSpec, context: SaslServerContext) {
    this.#core = core;
    this.#port = port;
    this.#spec = spec;
    this.context = context;
  }

  get mechanism(): string {
    return this.#spec.name;
  }

  async respond(line: string): Promise<void> {
    const core = this.#core;
    if (this.#phase === "failed") return core.reply(REPLIES.authFailed);
    if (this.#phase === "success") {
      if (line === "" && this.#login !== null) return this.#succeed(this.#login);
      this.#logFailure("unexpected response after the success data", this.#login);
      return core.reply(REPLIES.authFailed);
    }
    const response = decode(line);
    if (response === null) return core.reply(REPLIES.cannotDecode);
    const state = this.#state;
    await this.handle(() => this.#spec.server.step(this.context, state, response));
  }

  async handle(next: () => Promise<Step>): Promise<void> {
    const core = this.#core;
    let step: Step;
    try {
      step = await next();
    } catch (error) {
      this.#logFailure(`mechanism error: ${describe(error)}`, null);
      return core.reply(REPLIES.authTemporary);
    }
    const status = step.status;
    switch (status.kind) {
      case "more":
        this.#state = step.state ?? {};
        return this.#challenge(status.challenge);
      case "done": {
        let login: string | null;
        try {
          login = this.#port.login
            ? await this.#port.login(status.identity, this.#spec.name)
            : status.identity.authzid;
        } catch (error) {
          this.#logFailure(`account lookup failed: ${describe(error)}`, status.identity.authcid);
          return core.reply(REPLIES.authTemporary);
        }
        if (login === null) {
          this.#logFailure("authorization identity has no usable account", status.identity.authcid);
          return core.reply(REPLIES.authFailed);
        }
        if (!status.final) return this.#succeed(login);
        // SMTP cannot carry data with 235: it goes out as a challenge answered by an empty line.
        this.#phase = "success";
        this.#login = login;
        return this.#challenge(status.final);
      }
      case "fail":
        this.#logFailure(status.reason, status.login ?? null);
        if (!status.challenge) return core.reply(REPLIES.authFailed);
        this.#phase = "failed";
        return this.#challenge(status.challenge);
      case "temp":
        this.#logFailure(status.reason, status.login ?? null);
        return core.reply(REPLIES.authTemporary);
      case "malformed":
        this.#logFailure(status.reason, status.login ?? null);
        return core.reply(REPLIES.cannotDecode);
    }
  }

  #challenge(bytes: Uint8Array): void {
    this.#core.mode = { kind: "auth", exchange: this };
    this.#core.reply(REPLIES.challenge(bytesToBase64(bytes)));
  }

  #succeed(login: string): void {
    this.#core.sasl = { username: login, method: this.#spec.name };
    this.#core.reply(REPLIES.authenticated);
  }

  #logFailure(reason: string, login: string | null): void {
    const core = this.#core;
    const user = login ? `, sasl_username=${core.printable(login)}` : "";
    core.warn(
      `warning: ${core.peer}: SASL ${this.#spec.name} authentication failed: ${core.printable(reason)}${user}`,
    );
    core.ports.auth?.failed?.({ mechanism: this.#spec.name, reason, login });
  }
}

function decode(text: string): Uint8Array | null {
  return BASE64.test(text) ? base64ToBytes(text) : null;
}

const describe = (error: unknown) => (error instanceof Error ? error.message : String(error));
