// XOAUTH2 (Google's and Microsoft's pre-RFC 7628 mechanism): `user=<u>^Aauth=Bearer <token>^A^A`.
// On failure the server sends a base64 JSON error challenge like Google's
// `{"status":"401","schemes":"bearer","scope":"..."}`, the client answers with an empty response,
// and the server fails the exchange (the glue does that part).

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

export interface XOAuth2ErrorOptions {
  /** The OAuth scope a token needs, as Google's error names https://mail.google.com/. */
  scope?: string;
}

// A bearer token is a password: whoever sees it can replay it.
const PROPERTIES = mechanismProperties({ plaintext: true });

// The HTTP status an RFC 6750 error maps to, which is what Google's document carries.
const HTTP_STATUS = { invalid_token: "401", invalid_request: "400" } as const;

const encoder = new TextEncoder();

export function xoauth2Error(
  status: keyof typeof HTTP_STATUS,
  options: XOAuth2ErrorOptions = {},
): Uint8Array {
  const error: Record<string, string> = { status: HTTP_STATUS[status], schemes: "bearer" };
  if (options.scope !== undefined) error.scope = options.scope;
  return encoder.encode(JSON.stringify(error));
}

/** Parses a client's response strictly; reasons are fixed texts, safe for logs. */
export function parseXOAuth2Response(
  bytes: Uint8Array,
): { ok: true; value: { user: string; token: string } } | { ok: false; reason: string } {
  const decoded = decodeOAuthResponse(bytes);
  if (!decoded.ok) return decoded;
  const parsed = parseOAuthKvPairs(decoded.text);
  if (!parsed.ok) return parsed;
  const user = parsed.pairs.get("user");
  if (user === undefined || user === "") return { ok: false, reason: "missing user" };
  const auth = parsed.pairs.get("auth");
  if (auth === undefined) return { ok: false, reason: "missing auth" };
  const token = bearerTokenOf(auth);
  if (token === null) return { ok: false, reason: "auth is not Bearer <token>" };
  return { ok: true, value: { user, token } };
}

export function xoauth2Server(options: XOAuth2ErrorOptions = {}): ServerMechanism {
  const fail = (reason: string, status: keyof typeof HTTP_STATUS, login?: string): Step => ({
    status: {
      kind: "fail",
      reason,
      challenge: xoauth2Error(status, options),
      ...(login === undefined ? {} : { login }),
    },
  });

  async function check(ctx: SaslServerContext, response: Uint8Array): Promise<Step> {
    const parsed = parseXOAuth2Response(response);
    if (!parsed.ok) return { status: { kind: "malformed", reason: parsed.reason } };
    const user = ctx.canonicalLogin(parsed.value.user);
    if (user === null) return fail("unusable user", "invalid_request");
    let verdict: Awaited<ReturnType<SaslServerContext["verifyBearer"]>>;
    try {
      verdict = await ctx.verifyBearer(parsed.value.token, { user, host: null, port: null });
    } catch {
      // A verifier throws when it cannot decide (the issuer's key set is unreachable).
      return { status: { kind: "temp", reason: "bearer token verification unavailable", login: user } };
    }
    if (!verdict.ok) return fail(verdict.reason, verdict.status, user);
    const login = verdict.login;
    if (user !== login) {
      const allowed = await askBackend("authorization lookup", login, () => ctx.mayActAs(login, user));
      if (!allowed.ok) return { status: allowed.status };
      if (!allowed.value) return fail(`not authorized to act as ${user}`, "invalid_token", login);
    }
    return { status: { kind: "done", identity: { authcid: login, authzid: user } } };
  }

  return {
    async start(ctx, initial) {
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

/** The client's response; `user` is the authzid when set, else the authcid. */
export function xoauth2Initial(credentials: ClientCredentials): Uint8Array {
  const token = credentials.token;
  if (token === undefined || !isB64Token(token))
    throw new TypeError("XOAUTH2 needs a bearer token (b64token)");
  const user = credentials.authzid || credentials.authcid;
  if (!/^[\x21-\x7e]+$/.test(user)) throw new TypeError("XOAUTH2 user must be printable ASCII");
  return encoder.encode(`user=${user}${KVSEP}auth=Bearer ${token}${KVSEP}${KVSEP}`);
}

function xoauth2Client(credentials: ClientCredentials): ClientMechanism {
  let answeredEmpty = false;
  let serverError: string | null = null;
  return {
    async start() {
      return xoauth2Initial(credentials);
    },
    async step(challenge): Promise<ClientStep> {
      if (serverError !== null) return { kind: "fail", reason: `server refused the token: ${serverError}` };
      if (challenge.length === 0 && !answeredEmpty) {
        answeredEmpty = true;
        return { kind: "respond", response: xoauth2Initial(credentials) };
      }
      const status = oauthErrorStatus(challenge);
      if (status === null) return { kind: "fail", reason: "unexpected server challenge" };
      // The error document is answered with an empty response; the server then fails (535).
      serverError = status;
      return { kind: "respond", response: new Uint8Array() };
    },
    async finish() {
      if (serverError !== null) return { kind: "fail", reason: `server refused the token: ${serverError}` };
      return { kind: "done", verified: false };
    },
  };
}

export function xoauth2(options: XOAuth2ErrorOptions = {}): MechanismSpec {
  return {
    name: "XOAUTH2",
    properties: PROPERTIES,
    server: xoauth2Server(options),
    client: (credentials) => xoauth2Client(credentials),
  };
}

/** XOAUTH2 whose error document carries the status and scheme only. */
export const XOAUTH2: MechanismSpec = xoauth2();
