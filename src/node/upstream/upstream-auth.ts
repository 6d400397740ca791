// SMTP AUTH in upstream mode: every step of every mechanism runs on the gateway through its SASL
// endpoint (POST /v1/auth/sasl). The adapter keeps no credentials: it carries the client's
// responses and the gateway's challenges, and between steps only the sealed continuation the
// gateway returned, so challenge-response mechanisms (CRAM-MD5, DIGEST-MD5, SCRAM) work as well
// as PLAIN. The gateway's final answer names the login and gives a session token, which this
// session then uses for the policy checks and the message.
//
// The mechanisms offered are the gateway's (GET /v1/auth/sasl, cached) narrowed by this
// listener's own policy for the SMTP connection (smtpd_sasl_security_options without TLS, and so
// on). -PLUS and EXTERNAL are never offered: the gateway cannot see this connection's TLS.
import type { Settings } from "../../core/config/settings.ts";
import { base64ToBytes, bytesToBase64 } from "../../core/encoding/base64.ts";
import type { Logger } from "../../core/ports.ts";
import type { MechanismSpec, SaslServerContext, SaslStatus, Step } from "../../core/sasl/mechanism.ts";
import { allMechanisms, findMechanism } from "../../core/sasl/mechanisms.ts";
import { type AuthPort, saslAuthPort } from "../../core/smtp/server/index.ts";
import { type GatewayClient, GatewayUnavailable } from "./gateway-client.ts";
import { problemOf } from "./gateway-reply.ts";

/** How long the gateway's mechanism list is reused. */
const MECHANISM_CACHE_MS = 60_000;
/** After a failed fetch, how long the stand-in list is used before the gateway is asked again. */
const FAILED_FETCH_CACHE_MS = 10_000;

/** The login a session authenticated as on the gateway, and the token that proves it. */
export interface GatewayLogin {
  login: string;
  mechanism: string;
  token: string;
  /** Milliseconds since the epoch. */
  expiresAt: number;
}

/** The gateway's mechanism names, shared by all sessions of a listener. */
export class GatewayMechanisms {
  readonly #gateway: GatewayClient;
  readonly #logger: Logger;
  readonly #now: () => number;
  #names: readonly string[] | null = null;
  #fetchedAt = 0;
  #ttl = MECHANISM_CACHE_MS;
  #pending: Promise<readonly string[]> | null = null;

  constructor(gateway: GatewayClient, logger: Logger, now: () => number = Date.now) {
    this.#gateway = gateway;
    this.#logger = logger;
    this.#now = now;
  }

  /**
   * The names the gateway runs. When it cannot be asked, the last list it gave, or else every
   * mechanism Postern implements: AUTH is still announced, and trying it answers 454 (temporary)
   * rather than 504 for a mechanism that is merely unreachable right now.
   */
  async names(): Promise<readonly string[]> {
    if (this.#names && this.#now() - this.#fetchedAt < this.#ttl) return this.#names;
    this.#pending ??= this.#fetch().finally(() => {
      this.#pending = null;
    });
    // A list we have is served while a fresh one is fetched: EHLO does not wait on the gateway.
    return this.#names ?? this.#pending;
  }

  /** Forgets the list (the gateway refused a mechanism it had offered). */
  invalidate(): void {
    this.#fetchedAt = 0;
  }

  async #fetch(): Promise<readonly string[]> {
    try {
      const response = await this.#gateway.request({ method: "GET", path: "/v1/auth/sasl" });
      const body = response.json as { mechanisms?: unknown; smtp_mechanisms?: unknown } | null;
      // smtp_mechanisms: without CRAM-MD5 / DIGEST-MD5 while no account could pass them.
      const names = body?.smtp_mechanisms ?? body?.mechanisms;
      if (response.status !== 200 || !Array.isArray(names)) {
        throw new Error(`GET /v1/auth/sasl answered ${response.status}`);
      }
      this.#names = names.filter((name): name is string => typeof name === "string");
      this.#fetchedAt = this.#now();
      this.#ttl = MECHANISM_CACHE_MS;
      return this.#names;
    } catch (error) {
      this.#logger.warn(`warning: SASL mechanisms from ${this.#gateway.origin}: ${describe(error)}`);
      // Not every EHLO should wait for a gateway that is down: keep a list for a little while.
      this.#names ??= allMechanisms().map((spec) => spec.name);
      this.#fetchedAt = this.#now();
      this.#ttl = FAILED_FETCH_CACHE_MS;
      return this.#names;
    }
  }
}

export interface UpstreamAuthOptions {
  gateway: GatewayClient;
  mechanisms: GatewayMechanisms;
  /** This session's settings: the local mechanism policy for the SMTP connection. */
  settings: Settings;
  /** Receives the login and token once the gateway authenticated the client. */
  authenticated(login: GatewayLogin): void;
  now?: () => number;
}

export function upstreamAuthPort(options: UpstreamAuthOptions): AuthPort {
  const now = options.now ?? Date.now;
  const forwarded = new Map<string, MechanismSpec>();
  const logins = new Set<string>();
  const spec = (name: string): MechanismSpec | undefined => {
    const known = findMechanism(name);
    if (!known) return undefined;
    let wrapped = forwarded.get(known.name);
    if (!wrapped) {
      wrapped = forwardingSpec(known, options, now, (login) => logins.add(login));
      forwarded.set(known.name, wrapped);
    }
    return wrapped;
  };
  return saslAuthPort({
    settings: options.settings,
    // The mechanisms run on the gateway; nothing in this context is used.
    context: () => UNUSED_CONTEXT,
    enabled: () => options.mechanisms.names(),
    mechanism: spec,
    // Only a login the gateway just vouched for (with a token) may submit.
    login: async (identity) => (logins.has(identity.authzid) ? identity.authzid : null),
  });
}

/** A mechanism whose server side is the gateway: its name and properties, our forwarding steps. */
function forwardingSpec(
  known: MechanismSpec,
  options: UpstreamAuthOptions,
  now: () => number,
  vouched: (login: string) => void,
): MechanismSpec {
  const post = async (body: Record<string, unknown>): Promise<Step> => {
    let response: Awaited<ReturnType<GatewayClient["request"]>>;
    try {
      response = await options.gateway.request({
        method: "POST",
        path: "/v1/auth/sasl",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ ...body, service: "smtp" }),
      });
    } catch (error) {
      if (error instanceof GatewayUnavailable) return temp(error.message);
      throw error;
    }
    const json = (response.json ?? {}) as Record<string, unknown>;
    if (response.status === 200 && json.status === "continue" && typeof json.continuation === "string") {
      return {
        status: { kind: "more", challenge: decode(json.challenge) },
        state: { continuation: json.continuation },
      };
    }
    if (response.status === 200 && json.status === "authenticated" && typeof json.login === "string") {
      if (typeof json.token !== "string") return temp("the gateway gave no session token");
      const seconds = typeof json.expires_in === "number" ? json.expires_in : 0;
      options.authenticated({
        login: json.login,
        mechanism: typeof json.mechanism === "string" ? json.mechanism : known.name,
        token: json.token,
        expiresAt: now() + seconds * 1000,
      });
      vouched(json.login);
      const status: SaslStatus = { kind: "done", identity: { authcid: json.login, authzid: json.login } };
      if (typeof json.final === "string") status.final = decode(json.final);
      return { status };
    }
    return { status: refusal(problemOf(response), options.mechanisms) };
  };
  return {
    ...known,
    server: {
      start: (_ctx, initial) => post({ mechanism: known.name, response: encode(initial) }),
      step: (_ctx, state, response) =>
        post({ mechanism: known.name, continuation: state.continuation, response: encode(response) }),
    },
  };
}

function refusal(problem: ReturnType<typeof problemOf>, mechanisms: GatewayMechanisms): SaslStatus {
  const said = `gateway: ${problem.status} ${problem.slug ?? ""}`.trim();
  if (problem.status >= 500 || problem.status === 429) return { kind: "temp", reason: said };
  if (problem.slug === "malformed-response" || problem.slug === "response-too-long") {
    return { kind: "malformed", reason: said };
  }
  // The gateway no longer runs a mechanism it listed: ask it again next time.
  if (["unknown-mechanism", "mechanism-not-allowed", "encryption-required"].includes(problem.slug ?? "")) {
    mechanisms.invalidate();
  }
  return { kind: "fail", reason: problem.status === 401 ? "authentication failure" : said };
}

const temp = (reason: string): Step => ({ status: { kind: "temp", reason } });

/** RFC 4954 §4 over the SASL endpoint: null is "no initial response", "=" an empty one. */
function encode(bytes: Uint8Array | null): string | null {
  if (bytes === null) return null;
  return bytes.length === 0 ? "=" : bytesToBase64(bytes);
}

function decode(value: unknown): Uint8Array {
  return typeof value === "string" && value !== "" ? base64ToBytes(value) : new Uint8Array();
}

const unused = (): never => {
  throw new Error("upstream mode: mechanisms run on the gateway");
};

const UNUSED_CONTEXT: SaslServerContext = {
  credentials: { scram: unused, sharedSecret: unused, verifyPassword: unused },
  canonicalLogin: unused,
  mayActAs: unused,
  verifyBearer: unused,
  hostname: "",
  service: "smtp",
  channelBinding: null,
  externalIdentity: null,
  now: Date.now,
  random: (n) => crypto.getRandomValues(new Uint8Array(n)),
};

const describe = (error: unknown) => (error instanceof Error ? error.message : String(error));
