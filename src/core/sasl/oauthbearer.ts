// OAUTHBEARER (RFC 7628): one client message carrying an OAuth 2.0 bearer token, checked by
// ctx.verifyBearer. A failure is announced with a JSON error challenge (§3.2.2) that the client
// must answer with a lone %x01 before the server fails the exchange (the glue does that part).
//
//   client-resp = (gs2-header kvsep *kvpair kvsep) / kvsep
//   gs2-header  = ("n" / "y") "," ["a=" saslname] ","      (no channel binding: no "p=")

import { askBackend } from "./ask-backend.ts";
import {
  type ClientCredentials,
  type ClientMechanism,
  type ClientStep,
  type MechanismSpec,
  type MechanismState,
  mechanismProperties,
  type SaslServerContext,
  type ServerMechanism,
  type Step,
} from "./mechanism.ts";
import {
  bearerTokenOf,
  decodeOAuthResponse,
  isB64Token,
  KVSEP,
  oauthErrorStatus,
  parseOAuthKvPairs,
} from "./oauth-wire.ts";

/** What RFC 7628 §3.2.2 lets the server tell a failing client, when the operator configured it. */
export interface OAuthBearerErrorOptions {
  /** The OAuth scope a token needs (for example "https://mail.example/smtp"). */
  scope?: string;
  /** URL of the issuer's OpenID Connect discovery document. */
  openidConfiguration?: string;
}

export type OAuthErrorStatus = "invalid_token" | "invalid_request";

// A bearer token is a password: whoever sees it can replay it.
const PROPERTIES = mechanismProperties({ plaintext: true });

// RFC 5802 §5.1 saslname: UTF8-char-safe (no NUL, ",", "=") or the escapes =2C and =3D
const SASLNAME = /^(?:[^\0,=]|=2C|=3D)+$/;
const PORT = /^[0-9]{1,5}$/;
const encoder = new TextEncoder();

/** The §3.2.2 error document; members are present only when there is something to say. */
export function oauthBearerError(
  status: OAuthErrorStatus,
  options: OAuthBearerErrorOptions = {},
): Uint8Array {
  const error: Record<string, string> = { status };
  if (options.scope !== undefined) error.scope = options.scope;
  if (options.openidConfiguration !== undefined) error["openid-configuration"] = options.openidConfiguration;
  return encoder.encode(JSON.stringify(error));
}

export interface OAuthBearerInitial {
  /** a= of the gs2 header (decoded), or null. */
  authzid: string | null;
  host: string | null;
  port: number | null;
  token: string;
}

/** Parses a client's initial response strictly; reasons are fixed texts, safe for logs. */
export function parseOAuthBearerInitial(
  bytes: Uint8Array,
): { ok: true; value: OAuthBearerInitial } | { ok: false; reason: string } {
  const decoded = decodeOAuthResponse(bytes);
  if (!decoded.ok) return decoded;
  const text = decoded.text;
  const first = text.indexOf(",");
  const second = first < 0 ? -1 : text.indexOf(",", first + 1);
  if (second < 0) return { ok: false, reason: "missing gs2 header" };
  const flag = text.slice(0, first);
  if (flag.startsWith("p=")) return { ok: false, reason: "channel binding not supported" };
  if (flag !== "n" && flag !== "y") return { ok: false, reason: "bad gs2 channel binding flag" };
  const authzidField = text.slice(first + 1, second);
  let authzid: string | null = null;
  if (authzidField !== "") {
    if (!authzidField.startsWith("a=")) return { ok: false, reason: "bad gs2 authzid" };
    const name = authzidField.slice(2);
    if (!SASLNAME.test(name)) return { ok: false, reason: "bad gs2 authzid" };
    authzid = name.replace(/=2C|=3D/g, (code) => (code === "=2C" ? "," : "="));
  }
  if (text[second + 1] !== KVSEP) return { ok: false, reason: "missing \\x01 after the gs2 header" };
  const parsed = parseOAuthKvPairs(text.slice(second + 2));
  if (!parsed.ok) return parsed;
  const auth = parsed.pairs.get("auth");
  if (auth === undefined) return { ok: false, reason: "missing auth" };
  const token = bearerTokenOf(auth);
  if (token === null) return { ok: false, reason: "auth is not Bearer <token>" };
  const portText = parsed.pairs.get("port");
  let port: number | null = null;
  if (portText !== undefined) {
    if (!PORT.test(portText) || Number(portText) > 65535) return { ok: false, reason: "bad port" };
    port = Number(portText);
  }
  return { ok: true, value: { authzid, host: parsed.pairs.get("host") ?? null, port, token } };
}

/** The OAUTHBEARER server with the given error document members. */
export function oauthBearerServer(options: OAuthBearerErrorOptions = {}): ServerMechanism {
  const fail = (reason: string, status: OAuthErrorStatus, login?: string): Step => {
    const challenge = oauthBearerError(status, options);
    return { status: { kind: "fail", reason, challenge, ...loginOf(login ?? null) } };
  };

  async function check(ctx: SaslServerContext, response: Uint8Array): Promise<Step> {
    const parsed = parseOAuthBearerInitial(response);
    if (!parsed.ok) return { status: { kind: "malformed", reason: parsed.reason } };
    const { authzid: claimed, host, port, token } = parsed.value;
    let authzid: string | null = null;
    if (claimed !== null) {
      authzid = ctx.canonicalLogin(claimed);
      if (authzid === null) return fail("unusable authorization identity", "invalid_request");
    }
    let verdict: Awaited<ReturnType<SaslServerContext["verifyBearer"]>>;
    try {
      verdict = await ctx.verifyBearer(token, { user: authzid, host, port });
    } catch {
      // A verifier throws when it cannot decide (the issuer's key set is unreachable).
      return {
        status: { kind: "temp", reason: "bearer token verification unavailable", ...loginOf(authzid) },
      };
    }
    if (!verdict.ok) return fail(verdict.reason, verdict.status, authzid ?? undefined);
    const login = verdict.login;
    if (authzid !== null && authzid !== login) {
      const allowed = await askBackend("authorization lookup", login, () => ctx.mayActAs(login, authzid));
      if (!allowed.ok) return { status: allowed.status };
      if (!allowed.value) return fail(`not authorized to act as ${authzid}`, "invalid_token", login);
    }
    return { status: { kind: "done", identity: { authcid: login, authzid: authzid ?? login } } };
  }

  return {
    async start(ctx, initial) {
      // No initial response: an empty challenge asks for it (RFC 4954 §4).
      if (initial === null) {
        return { status: { kind: "more", challenge: new Uint8Array() }, state: { phase: "initial" } };
      }
      return check(ctx, initial);
    },
    async step(ctx, state: MechanismState, response) {
      if (state.phase !== "initial") return { status: { kind: "malformed", reason: "unexpected response" } };
      return check(ctx, response);
    },
  };
}

function loginOf(login: string | null): { login?: string } {
  return login === null ? {} : { login };
}

/** Encodes a saslname for the gs2 header (RFC 5802 §5.1). */
function saslname(name: string): string {
  return name.replace(/=/g, "=3D").replace(/,/g, "=2C");
}

/** The client's initial response (RFC 7628 §3.1); a= is the authzid, else the authcid when set. */
export function oauthBearerInitial(credentials: ClientCredentials): Uint8Array {
  const token = credentials.token;
  if (token === undefined || !isB64Token(token)) {
    throw new TypeError("OAUTHBEARER needs a bearer token (b64token)");
  }
  const user = credentials.authzid || credentials.authcid;
  if (/[\0\x01]/.test(user)) throw new TypeError("OAUTHBEARER user contains NUL or \\x01");
  const gs2 = user ? `n,a=${saslname(user)},` : "n,,";
  let pairs = "";
  if (credentials.host !== undefined) {
    if (!/^[\x21-\x7e]+$/.test(credentials.host))
      throw new TypeError("OAUTHBEARER host must be printable ASCII");
    pairs += `host=${credentials.host}${KVSEP}`;
  }
  if (credentials.port !== undefined) pairs += `port=${credentials.port}${KVSEP}`;
  pairs += `auth=Bearer ${token}${KVSEP}`;
  return encoder.encode(`${gs2}${KVSEP}${pairs}${KVSEP}`);
}

function oauthBearerClient(credentials: ClientCredentials): ClientMechanism {
  let answeredEmpty = false;
  let serverError: string | null = null;
  return {
    async start() {
      return oauthBearerInitial(credentials);
    },
    async step(challenge): Promise<ClientStep> {
      if (serverError !== null) return { kind: "fail", reason: `server refused the token: ${serverError}` };
      // An empty challenge asks for the initial response when the glue did not send it with AUTH.
      if (challenge.length === 0 && !answeredEmpty) {
        answeredEmpty = true;
        return { kind: "respond", response: oauthBearerInitial(credentials) };
      }
      const status = oauthErrorStatus(challenge);
      if (status === null) return { kind: "fail", reason: "unexpected server challenge" };
      // RFC 7628 §3.2.3: answer the error with a lone %x01; the server then fails the exchange.
      serverError = status;
      return { kind: "respond", response: encoder.encode(KVSEP) };
    },
    async finish() {
      if (serverError !== null) return { kind: "fail", reason: `server refused the token: ${serverError}` };
      return { kind: "done", verified: false };
    },
  };
}

/** OAUTHBEARER with the given error document members (postern's scope and discovery URL). */
export function oauthBearer(options: OAuthBearerErrorOptions = {}): MechanismSpec {
  return {
    name: "OAUTHBEARER",
    properties: PROPERTIES,
    server: oauthBearerServer(options),
    client: (credentials) => oauthBearerClient(credentials),
  };
}

/** OAUTHBEARER whose error document carries the status only. */
export const OAUTHBEARER: MechanismSpec = oauthBearer();
