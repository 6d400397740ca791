// The SASL exchange endpoint: runs any enabled mechanism step by step over HTTP and returns a
// Postern session token on success. It is stateless between steps: the mechanism's state travels
// to the client and back in a sealed, expiring continuation (JWE, A256GCM). This is how an SMTP
// front (the Node adapter in upstream mode) or a client that will not send a password
// authenticates with challenge-response mechanisms.
import { Hono } from "hono";
import { z } from "zod";
import { openContinuation, sealContinuation } from "../../core/auth/continuation.ts";
import { issueSessionToken } from "../../core/auth/session-token.ts";
import { base64ToBytes, bytesToBase64 } from "../../core/encoding/base64.ts";
import { printable } from "../../core/printable.ts";
import { withoutSharedSecretMechanisms } from "../../core/sasl/shared-secret-mechanisms.ts";
import { logAuthFailure } from "../auth-log.ts";
import { describeSasl } from "../openapi/describe.ts";
import { ProblemError } from "../problem.ts";
import { saslContext } from "../sasl-context.ts";
import { mechanismRefusal, offeredNames } from "../sasl-policy.ts";
import type { AppEnv } from "../services.ts";
import { isConfidential } from "../transport.ts";
import { parseJson } from "./parse-json.ts";

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

const stepBody = z.object({
  mechanism: z.string().min(1).max(40).optional(),
  /** base64 of the client's response; absent or null: no initial response. "=" is an empty one. */
  response: z.string().max(20_000).nullable().optional(),
  continuation: z.string().max(20_000).optional(),
  /** The service the client authenticates to (DIGEST-MD5's digest-uri): smtp by default. */
  service: z.enum(["smtp", "http"]).optional(),
});

/** OpenAPI descriptions (GET /openapi.json). */
const doc = { list: describeSasl.list, step: describeSasl.step(stepBody) };

export const saslRoutes = new Hono<AppEnv>();

saslRoutes.get("/", doc.list, async (c) => {
  const tls = isConfidential(new URL(c.req.url));
  const settings = c.get("requestSettings");
  const services = c.get("services");
  const { backend } = saslContext(services, settings, c.get("client"), tls);
  const mechanisms = offeredNames(settings, tls, await backend.enabled());
  // What an SMTP front (the adapter in upstream mode) announces, as the embedded listener does.
  const sharedSecrets = backend.kind !== "postern" || (await services.accounts.anySharedSecret());
  const smtpMechanisms = sharedSecrets ? mechanisms : withoutSharedSecretMechanisms(mechanisms);
  return c.json({ mechanisms, smtp_mechanisms: smtpMechanisms, tls, backend: backend.kind });
});

saslRoutes.post("/", doc.step, async (c) => {
  const services = c.get("services");
  const settings = c.get("requestSettings");
  const client = c.get("client");
  const tls = isConfidential(new URL(c.req.url));
  const body = await parseJson(c.req.raw, stepBody);
  if (!services.continuationKey || !services.sessionKey) {
    throw new ProblemError({
      slug: "sasl-unavailable",
      title: "SASL endpoint unavailable",
      status: 503,
      detail: "POSTERN_SECRET_KEY is not set: continuations and session tokens cannot be sealed",
      smtpStatus: "4.7.0",
      smtpReply: "454 4.7.0 Temporary authentication failure: server configuration",
    });
  }
  const response = decodeResponse(body.response, settings.int("smtpd_sasl_response_limit"));

  let name = body.mechanism?.toUpperCase() ?? "";
  let state: Record<string, unknown> | null = null;
  let service = body.service ?? "smtp";
  if (body.continuation !== undefined) {
    const opened = await openContinuation(await services.continuationKey(), body.continuation);
    if (!opened.ok) {
      throw new ProblemError({
        slug: "invalid-continuation",
        title: "Invalid continuation",
        status: 400,
        detail: `the continuation is ${opened.reason}; start the exchange again`,
        smtpStatus: "5.5.2",
      });
    }
    if (body.mechanism !== undefined && opened.payload.mech !== name) {
      throw new ProblemError({
        slug: "invalid-continuation",
        title: "Mechanism mismatch",
        status: 400,
        smtpStatus: "5.5.2",
      });
    }
    name = opened.payload.mech;
    state = opened.payload.state;
    service = (opened.payload.state.service as string | undefined) === "http" ? "http" : "smtp";
  }
  if (name === "") {
    throw new ProblemError({
      slug: "invalid-request",
      title: "Mechanism required",
      status: 400,
      smtpStatus: "5.5.4",
      smtpReply: "501 5.5.4 Syntax: AUTH mechanism",
    });
  }
  const { context, backend } = saslContext(services, settings, client, tls, service);
  const refusal = mechanismRefusal(name, settings, tls, await backend.enabled());
  if (refusal) throw refusal;
  const spec = backend.mechanism(name);
  if (!spec) throw authenticationFailed();

  // The client's dummy answer after an error challenge (OAUTHBEARER, XOAUTH2): now it fails.
  if (state?.failedAfterChallenge) throw authenticationFailed();

  const step = state
    ? await spec.server.step(context, stripService(state), response ?? new Uint8Array())
    : await spec.server.start(context, response);
  const status = step.status;
  switch (status.kind) {
    case "more":
      return c.json({
        status: "continue",
        challenge: bytesToBase64(status.challenge),
        continuation: await sealContinuation(await services.continuationKey(), {
          mech: spec.name,
          state: { ...(step.state ?? {}), service },
        }),
      });
    case "done": {
      const account = await backend.identity(status.identity.authzid, spec.name);
      if (!account) {
        logAuthFailure(
          services,
          client,
          spec.name,
          "authorization identity has no usable account",
          status.identity.authcid,
        );
        throw authenticationFailed();
      }
      const ttlSeconds = Math.min(
        3600,
        Math.max(60, Math.round(settings.duration("postern_session_token_lifetime") / 1000)),
      );
      const token = await issueSessionToken(await services.sessionKey(), {
        login: account.username,
        mechanism: spec.name,
        ttlSeconds,
      });
      services.logger.info(
        `sasl: client=${client.name}[${client.address}], sasl_method=${spec.name}, sasl_username=${printable(account.username)}`,
      );
      return c.json({
        status: "authenticated",
        login: account.username,
        mechanism: spec.name,
        token,
        token_type: "Bearer",
        expires_in: ttlSeconds,
        final: status.final ? bytesToBase64(status.final) : null,
      });
    }
    case "fail":
      logAuthFailure(services, client, spec.name, status.reason, status.login);
      if (status.challenge) {
        // RFC 7628 §3.2.2: the error goes out as a challenge; the client's next message ends it.
        return c.json({
          status: "continue",
          challenge: bytesToBase64(status.challenge),
          continuation: await sealContinuation(await services.continuationKey(), {
            mech: spec.name,
            state: { failedAfterChallenge: true, service },
          }),
        });
      }
      throw authenticationFailed();
    case "temp":
      logAuthFailure(services, client, spec.name, status.reason, status.login);
      throw new ProblemError(
        {
          slug: "authentication-unavailable",
          title: "Temporary authentication failure",
          status: 503,
          detail: "Temporary authentication failure",
          smtpStatus: "4.7.0",
          smtpReply: "454 4.7.0 Temporary authentication failure",
        },
        { "retry-after": "30" },
      );
    case "malformed":
      logAuthFailure(services, client, spec.name, status.reason, status.login);
      throw new ProblemError({
        slug: "malformed-response",
        title: "Malformed SASL response",
        status: 400,
        detail: "the SASL response could not be parsed",
        smtpStatus: "5.5.2",
        smtpReply: "501 5.5.2 Cannot decode response",
      });
  }
});

function stripService(state: Record<string, unknown>): Record<string, unknown> {
  const { service: _service, ...rest } = state;
  return rest;
}

function decodeResponse(value: string | null | undefined, limit: number): Uint8Array | null {
  if (value === undefined || value === null) return null;
  if (value.length > Math.ceil(limit / 3) * 4 + 4) {
    throw new ProblemError({
      slug: "response-too-long",
      title: "SASL response limit exceeded",
      status: 413,
      detail: `SASL responses are limited to ${limit} bytes (smtpd_sasl_response_limit)`,
      smtpStatus: "5.5.6",
      smtpReply: "500 5.5.6 SASL response limit exceeded",
    });
  }
  // RFC 4954 §4: "=" is an empty initial response.
  if (value === "=" || value === "") return new Uint8Array();
  if (!BASE64.test(value)) {
    throw new ProblemError({
      slug: "malformed-response",
      title: "Cannot decode response",
      status: 400,
      detail: "the response is not base64",
      smtpStatus: "5.5.2",
      smtpReply: "501 5.5.2 Cannot decode response",
    });
  }
  return base64ToBytes(value);
}

export function authenticationFailed(): ProblemError {
  return new ProblemError({
    slug: "authentication-failed",
    title: "Authentication failed",
    status: 401,
    detail: "Error: authentication failed: authentication failure",
    smtpStatus: "5.7.8",
    smtpReply: "535 5.7.8 Error: authentication failed: authentication failure",
  });
}
