// Postfix's smtpd_sasl_type = dovecot (xsasl_dovecot_server.c): SASL exchanges are relayed to a
// Dovecot auth service, which owns the mechanisms and the verdict. One connection is shared by
// every exchange (ids tell them apart) and reopened on the next request after it is lost. Network
// trouble never throws: it is a temp status, which the glue turns into 454 4.7.0.

import type { Socket } from "../../net/socket.ts";
import type { Logger } from "../../ports.ts";
import { printable } from "../../printable.ts";
import { withTimeout } from "../../smtp/with-timeout.ts";
import type { SaslStatus } from "../mechanism.ts";
import { DovecotConnection, type ReplyOutcome } from "./dovecot-connection.ts";
import { type DovecotAuthParams, formatAuth, formatCancel, formatCont } from "./format-request.ts";
import type { DovecotMechanism } from "./mechanism-flags.ts";
import { type DovecotReply, MAX_REQUEST_ID } from "./parse-reply.ts";

export interface DovecotAuthClientOptions {
  /** Opens a new connection to the auth service (connectNode, the Workers connect(), a test pair). */
  connect: () => Promise<Socket>;
  /** Names the service in log lines, e.g. the smtpd_sasl_path value. */
  label?: string;
  /** CPID; Dovecot requires a non-zero one. Default: random (there is no pid on Workers). */
  pid?: number;
  /** Bound on connecting plus handshake, and on each reply. Default 30 s. */
  timeoutMs?: number;
  /** Longest line either way; Dovecot's own bound is 16384 (AUTH_CLIENT_MAX_LINE_LENGTH). */
  maxLineBytes?: number;
  /** Receives Postfix-style warnings (`SASL: Connect to Dovecot auth socket ... failed: ...`). */
  logger?: Pick<Logger, "warn">;
}

/** The start of an exchange: its id (0 when no request was sent) for continue() and cancel(). */
export interface DovecotStep {
  id: number;
  status: SaslStatus;
}

export type DovecotStartOptions = DovecotAuthParams;

export const DEFAULT_TIMEOUT_MS = 30_000;
export const DEFAULT_MAX_LINE_BYTES = 16_384;

/** What the client (and the log of the glue) is told for any network or protocol trouble. */
export const UNAVAILABLE = "Dovecot auth service unavailable";

interface Exchange {
  connection: DovecotConnection;
  /** A CONT is in flight: a second continue() must wait for the reply, not overlap it. */
  busy: boolean;
  /** When the last challenge came: exchanges a caller walked away from are swept after a while. */
  since: number;
}

/** Dovecot itself forgets a request after 150 s without a continuation; we keep ours a bit longer. */
const EXCHANGE_TTL_MS = 5 * 60_000;

export class DovecotAuthClient {
  readonly #connect: () => Promise<Socket>;
  readonly #label: string;
  readonly #pid: number;
  readonly #timeoutMs: number;
  readonly #maxLineBytes: number;
  readonly #logger: Pick<Logger, "warn"> | null;
  readonly #exchanges = new Map<number, Exchange>();
  #connection: DovecotConnection | null = null;
  #connecting: Promise<DovecotConnection | null> | null = null;
  #mechanisms: DovecotMechanism[] = [];
  #lastId = 0;
  #closed = false;

  constructor(options: DovecotAuthClientOptions) {
    this.#connect = options.connect;
    this.#label = options.label ?? "dovecot";
    this.#pid = options.pid ?? randomPid();
    this.#timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.#maxLineBytes = options.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES;
    this.#logger = options.logger ?? null;
  }

  /** Connects and handshakes unless a live connection exists. False: the service is unavailable. */
  async open(): Promise<boolean> {
    return (await this.#ensure()) !== null;
  }

  /**
   * The mechanisms of the last successful handshake (empty before one): still announced while the
   * service is briefly down, so clients get a 454 and retry instead of going on unauthenticated.
   */
  mechanisms(): DovecotMechanism[] {
    return this.#mechanisms.map(({ name, properties }) => ({ name, properties: { ...properties } }));
  }

  /** Sends AUTH. A stale connection found at write time is replaced once, as Postfix does. */
  async start(mechanism: string, options: DovecotStartOptions): Promise<DovecotStep> {
    this.#sweep();
    for (let attempt = 0; attempt < 2; attempt++) {
      const connection = await this.#ensure();
      if (!connection) return { id: 0, status: unavailable() };
      const wanted = mechanism.toUpperCase();
      const offered = connection.handshake.mechanisms.find((m) => m.name.toUpperCase() === wanted);
      // Dovecot drops the whole connection on an AUTH for a mechanism it does not have.
      if (!offered) return { id: 0, status: { kind: "fail", reason: "Invalid authentication mechanism" } };
      const id = this.#nextId();
      const line = formatAuth(id, offered.name, options);
      if (byteLength(line) > this.#maxLineBytes) return { id: 0, status: tooLong() };
      const outcome = await connection.request(id, line, this.#timeoutMs);
      if (outcome.kind === "unsent") {
        this.#warn(`SASL: Couldn't send request to Dovecot auth socket '${this.#label}': ${outcome.why}`);
        continue;
      }
      return { id, status: this.#settle(id, connection, outcome) };
    }
    return { id: 0, status: unavailable() };
  }

  /** Answers the challenge of exchange `id` (an empty response is sent as empty). */
  async continue(id: number, response: Uint8Array): Promise<SaslStatus> {
    const exchange = this.#exchanges.get(id);
    if (!exchange || exchange.busy)
      return { kind: "temp", reason: `Dovecot auth request ${id} is not in progress` };
    if (!exchange.connection.alive) {
      this.#exchanges.delete(id);
      return unavailable();
    }
    const line = formatCont(id, response);
    if (byteLength(line) > this.#maxLineBytes) {
      await this.cancel(id);
      return tooLong();
    }
    exchange.busy = true;
    const outcome = await exchange.connection.request(id, line, this.#timeoutMs);
    exchange.busy = false;
    if (outcome.kind === "unsent") {
      this.#exchanges.delete(id);
      this.#warn(`SASL: Connection lost to Dovecot auth socket '${this.#label}': ${outcome.why}`);
      return unavailable();
    }
    return this.#settle(id, exchange.connection, outcome);
  }

  /** Abandons exchange `id` (the client sent "*"): Dovecot is told to forget it. */
  async cancel(id: number): Promise<void> {
    const exchange = this.#exchanges.get(id);
    if (!exchange) return;
    this.#exchanges.delete(id);
    await exchange.connection.notify(formatCancel(id));
  }

  /** Closes the connection for good; exchanges in flight end as temp. */
  async close(): Promise<void> {
    this.#closed = true;
    this.#exchanges.clear();
    const connection = this.#connection ?? (await this.#connecting);
    this.#connection = null;
    await connection?.close();
  }

  #settle(
    id: number,
    connection: DovecotConnection,
    outcome: Exclude<ReplyOutcome, { kind: "unsent" }>,
  ): SaslStatus {
    if (outcome.kind === "reply") {
      const status = statusOf(outcome.reply);
      if (status.kind === "more") this.#exchanges.set(id, { connection, busy: false, since: Date.now() });
      else this.#exchanges.delete(id);
      if (outcome.reply.kind === "ok" && outcome.reply.user === null) {
        this.#warn(`SASL: missing Dovecot server OK username field (request ${id})`);
      }
      return status;
    }
    this.#exchanges.delete(id);
    if (outcome.kind === "timeout") {
      this.#warn(
        `SASL: Dovecot auth socket '${this.#label}' did not answer request ${id} within ${this.#timeoutMs} ms`,
      );
      // Dovecot would otherwise keep the request until its own timeout.
      void connection.notify(formatCancel(id));
    } else {
      this.#warn(`SASL: Connection lost to Dovecot auth socket '${this.#label}': ${outcome.why}`);
    }
    return unavailable();
  }

  #ensure(): Promise<DovecotConnection | null> {
    if (this.#closed) return Promise.resolve(null);
    if (this.#connection?.alive) return Promise.resolve(this.#connection);
    this.#connecting ??= this.#open().finally(() => {
      this.#connecting = null;
    });
    return this.#connecting;
  }

  async #open(): Promise<DovecotConnection | null> {
    const failed = (why: string) => {
      this.#warn(`SASL: Connect to Dovecot auth socket '${this.#label}' failed: ${why}`);
      return null;
    };
    const deadline = Date.now() + this.#timeoutMs;
    let socket: Socket;
    try {
      const pending = this.#connect();
      const connected = await withTimeout(pending, this.#timeoutMs);
      if (connected.timedOut) {
        pending.then((late) => late.close()).catch(() => {});
        return failed("Connection timed out");
      }
      socket = connected.value;
    } catch (error) {
      return failed(printable(error instanceof Error ? error.message : String(error)));
    }
    const opened = await DovecotConnection.open(socket, {
      pid: this.#pid,
      timeoutMs: Math.max(0, deadline - Date.now()),
      maxLineBytes: this.#maxLineBytes,
    });
    if (!opened.ok) return failed(opened.reason);
    if (this.#closed) {
      await opened.connection.close();
      return null;
    }
    this.#connection = opened.connection;
    this.#mechanisms = opened.connection.handshake.mechanisms;
    return opened.connection;
  }

  #sweep(): void {
    const now = Date.now();
    for (const [id, exchange] of this.#exchanges) {
      if (exchange.busy) continue;
      if (!exchange.connection.alive || now - exchange.since > EXCHANGE_TTL_MS) this.#exchanges.delete(id);
    }
  }

  /** Ids keep increasing across reconnects, so a stale id never names a newer exchange. */
  #nextId(): number {
    do {
      this.#lastId = this.#lastId >= MAX_REQUEST_ID ? 1 : this.#lastId + 1;
    } while (this.#exchanges.has(this.#lastId));
    return this.#lastId;
  }

  #warn(line: string): void {
    this.#logger?.warn(line);
  }
}

/** Dovecot's verdict as a SASL status. */
function statusOf(reply: DovecotReply): SaslStatus {
  switch (reply.kind) {
    case "cont":
      return { kind: "more", challenge: reply.challenge };
    case "ok": {
      // Postfix: an OK without user= is a backend error, never an anonymous success.
      if (reply.user === null || reply.user === "")
        return { kind: "fail", reason: "Authentication backend error" };
      const identity = { authcid: reply.user, authzid: reply.user };
      return reply.final ? { kind: "done", identity, final: reply.final } : { kind: "done", identity };
    }
    case "fail": {
      const login = reply.user ? { login: reply.user } : {};
      const reason = reply.reason === null ? null : printable(reply.reason);
      if (reply.temp) return { kind: "temp", reason: reason ?? "Dovecot auth backend failure", ...login };
      return { kind: "fail", reason: reason ?? "authentication failure", ...login };
    }
  }
}

function unavailable(): SaslStatus {
  return { kind: "temp", reason: UNAVAILABLE };
}

function tooLong(): SaslStatus {
  return { kind: "malformed", reason: "SASL response too long for the Dovecot auth protocol" };
}

const encoder = new TextEncoder();

function byteLength(line: string): number {
  // The line's own LF does not count toward the limit.
  return encoder.encode(line).length - 1;
}

function randomPid(): number {
  const [value = 1] = crypto.getRandomValues(new Uint32Array(1));
  return (value % 0x7fff_ffff) + 1;
}
