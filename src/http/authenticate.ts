// HTTP authentication with SASL semantics, one credential for SMTP and HTTP alike:
//   Basic            = PLAIN (RFC 7617 over RFC 4616), through the PLAIN mechanism itself;
//   Bearer           = a Postern session token, or a JWT from a configured issuer (OAUTHBEARER);
//   SCRAM-SHA-256/1  = RFC 7804: WWW-Authenticate / Authorization round trips with a sid, and
//                      Authentication-Info carrying the server signature.
// Every scheme is subject to the same mechanism policy as AUTH over SMTP (sasl-policy.ts).
import { parseBasicAuthorization } from "../core/auth/basic.ts";
import { openContinuation, sealContinuation } from "../core/auth/continuation.ts";
import {
  formatScramAuthenticationInfo,
  formatScramChallenge,
  parseScramAuthorization,
} from "../core/auth/http-scram.ts";
import { isSessionToken } from "../core/auth/session-token.ts";
import type { Settings } from "../core/config/settings.ts";
import type { SaslStatus } from "../core/sasl/mechanism.ts";
import { logAuthFailure } from "./auth-log.ts";
import { ProblemError } from "./problem.ts";
import { type RequestSasl, saslContext, verifyBearerToken } from "./sasl-context.ts";
import { mechanismRefusal, offeredNames } from "./sasl-policy.ts";
import type { ClientInfo, SaslIdentity, Services } from "./services.ts";
import { isConfidential } from "./transport.ts";

const REALM = "postern";

/** The WWW-Authenticate challenges for this transport: only schemes whose mechanism is allowed. */
export function challenges(settings: Settings, tls: boolean): string {
  const offered = new Set(offeredNames(settings, tls));
  const list: string[] = [];
  if (offered.has("SCRAM-SHA-256")) list.push(`SCRAM-SHA-256 realm="${REALM}"`);
  if (offered.has("PLAIN")) list.push(`Basic realm="${REALM}", charset="UTF-8"`);
  if (offered.has("OAUTHBEARER")) list.push(`Bearer realm="${REALM}"`);
  return list.length ? list.join(", ") : `Basic realm="${REALM}", charset="UTF-8"`;
}

/** A WWW-Authenticate value, or how to make it: computed only when a 401 is actually sent. */
export type Challenge = string | (() => string);

const resolve = (challenge: Challenge) => (typeof challenge === "function" ? challenge() : challenge);

export function authFailed(challenge: Challenge, reason = "authentication failure"): ProblemError {
  return new ProblemError(
    {
      slug: "authentication-failed",
      title: "Authentication failed",
      status: 401,
      detail: `Error: authentication failed: ${reason}`,
      smtpStatus: "5.7.8",
      smtpReply: `535 5.7.8 Error: authentication failed: ${reason}`,
    },
    { "www-authenticate": resolve(challenge) },
  );
}

export function authRequired(challenge: Challenge): ProblemError {
  return new ProblemError(
    {
      slug: "authentication-required",
      title: "Authentication required",
      status: 401,
      detail: "Authentication required",
      smtpStatus: "5.7.0",
      smtpReply: "530 5.7.0 Authentication required",
    },
    { "www-authenticate": resolve(challenge) },
  );
}

export interface Authentication {
  identity: SaslIdentity | null;
  /** Headers for the final response (Authentication-Info after SCRAM). */
  headers: Record<string, string>;
}

/**
 * The authenticated identity of a request (null without credentials). Throws a problem for bad,
 * unusable or policy-refused credentials, and the SCRAM server-first as a 401 challenge.
 */
export async function authenticateRequest(
  request: Request,
  client: ClientInfo,
  services: Services,
  settings: Settings,
): Promise<Authentication> {
  const header = request.headers.get("authorization");
  if (header === null) return { identity: null, headers: {} };
  const tls = isConfidential(new URL(request.url));
  const challenge = () => challenges(settings, tls);
  const scheme = /^\S+/.exec(header)?.[0].toLowerCase() ?? "";

  const sasl = saslContext(services, settings, client, tls, "http");

  if (scheme === "basic") {
    refuseUnlessAllowed("PLAIN", settings, tls);
    const parsed = parseBasicAuthorization(header);
    if (!parsed?.ok) {
      logAuthFailure(services, client, "PLAIN", parsed?.reason ?? "malformed credentials");
      throw authFailed(challenge, "malformed credentials");
    }
    const plain = sasl.backend.mechanism("PLAIN");
    if (!plain) throw authFailed(challenge, "PLAIN is not available");
    const message = new TextEncoder().encode(`\0${parsed.username}\0${parsed.password}`);
    const status = (await plain.server.start(sasl.context, message)).status;
    return { identity: await identityFrom(status, "PLAIN", sasl, services, client, challenge), headers: {} };
  }

  if (scheme === "bearer") {
    const token = header.slice(6).trim();
    // A Postern session token is the outcome of a SASL exchange that policy already allowed (the
    // SMTP adapter in upstream mode lives on them); other bearer tokens are OAUTHBEARER's.
    if (!isSessionToken(token)) refuseUnlessAllowed("OAUTHBEARER", settings, tls);
    const verified = await verifyBearerToken(token, services, settings);
    if (!verified.ok) {
      logAuthFailure(services, client, "OAUTHBEARER", verified.reason);
      throw authFailed(challenge);
    }
    const identity = await sasl.backend.identity(verified.login, verified.mechanism ?? "OAUTHBEARER");
    if (!identity) {
      logAuthFailure(services, client, "OAUTHBEARER", "no usable account", verified.login);
      throw authFailed(challenge);
    }
    return { identity, headers: {} };
  }

  if (scheme === "scram-sha-256" || scheme === "scram-sha-1") {
    return scram(header, sasl, client, services, settings, tls, challenge);
  }

  logAuthFailure(services, client, scheme.toUpperCase().slice(0, 20), "unsupported authorization scheme");
  throw authFailed(challenge, "unsupported authorization scheme");
}

async function scram(
  header: string,
  sasl: RequestSasl,
  client: ClientInfo,
  services: Services,
  settings: Settings,
  tls: boolean,
  challenge: Challenge,
): Promise<Authentication> {
  const parsed = parseScramAuthorization(header);
  if (!parsed?.ok) {
    logAuthFailure(services, client, "SCRAM-SHA-256", parsed?.reason ?? "malformed authorization");
    throw authFailed(challenge, "malformed credentials");
  }
  const name = parsed.scheme;
  refuseUnlessAllowed(name, settings, tls);
  if (!services.continuationKey) throw authFailed(challenge, "SCRAM over HTTP needs POSTERN_SECRET_KEY");
  const key = await services.continuationKey();
  const spec = sasl.backend.mechanism(name);
  if (!spec) throw authFailed(challenge, `${name} is not available`);
  if (parsed.sid === null) {
    const step = await spec.server.start(sasl.context, parsed.data);
    if (step.status.kind !== "more") {
      await identityFrom(step.status, name, sasl, services, client, challenge);
      throw authFailed(challenge);
    }
    const sid = await sealContinuation(key, { mech: name, state: step.state ?? {} }, { ttlSeconds: 120 });
    // RFC 7804 §5: the server-first goes out as a 401 with the exchange's sid.
    throw new ProblemError(
      { slug: "scram-continue", title: "SCRAM authentication continues", status: 401, smtpStatus: "3.0.0" },
      { "www-authenticate": formatScramChallenge(name, { sid, data: step.status.challenge }) },
    );
  }
  const opened = await openContinuation(key, parsed.sid);
  if (!opened.ok || opened.payload.mech !== name) {
    logAuthFailure(
      services,
      client,
      name,
      `stale or invalid sid (${opened.ok ? "mechanism mismatch" : opened.reason})`,
    );
    throw authFailed(challenge);
  }
  const step = await spec.server.step(sasl.context, opened.payload.state, parsed.data);
  const identity = await identityFrom(step.status, name, sasl, services, client, challenge);
  const final = step.status.kind === "done" ? step.status.final : undefined;
  return {
    identity,
    headers: final
      ? { "authentication-info": formatScramAuthenticationInfo({ sid: parsed.sid, data: final }) }
      : {},
  };
}

function refuseUnlessAllowed(mechanism: string, settings: Settings, tls: boolean): void {
  const refusal = mechanismRefusal(mechanism, settings, tls);
  if (refusal) throw refusal;
}

async function identityFrom(
  status: SaslStatus,
  mechanism: string,
  sasl: RequestSasl,
  services: Services,
  client: ClientInfo,
  challenge: Challenge,
): Promise<SaslIdentity> {
  if (status.kind === "done") {
    const identity = await sasl.backend.identity(status.identity.authzid, mechanism);
    if (identity) return identity;
    logAuthFailure(
      services,
      client,
      mechanism,
      "authorization identity has no usable account",
      status.identity.authcid,
    );
    throw authFailed(challenge);
  }
  if (status.kind === "temp") {
    logAuthFailure(services, client, mechanism, status.reason, status.login);
    throw new ProblemError(
      {
        slug: "authentication-unavailable",
        title: "Temporary authentication failure",
        status: 503,
        smtpStatus: "4.7.0",
        smtpReply: "454 4.7.0 Temporary authentication failure",
      },
      { "retry-after": "30" },
    );
  }
  const reason = status.kind === "more" ? "unexpected challenge" : status.reason;
  const login = status.kind === "more" ? undefined : status.login;
  logAuthFailure(services, client, mechanism, reason, login);
  throw authFailed(challenge);
}
