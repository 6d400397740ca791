// Client side of SMTP AUTH (RFC 4954) toward the smarthost, as Postfix's smtp_sasl_glue.c does it:
// choose a mechanism by policy (client-sasl-policy.ts), run its client from the shared mechanism
// table, and word failures the way Postfix logs them. A mechanism that can prove the server
// (SCRAM's v=) must do so. Secrets never appear in a reason: replies that echo what we sent are
// redacted.

import { base64ToBytes, bytesToBase64 } from "../../encoding/base64.ts";
import { printable } from "../../printable.ts";
import type { ClientMechanism } from "../../sasl/mechanism.ts";
import { renderReply } from "../reply.ts";
import {
  type ClientSaslPolicy,
  chooseClientMechanism,
  DEFAULT_CLIENT_SASL_POLICY,
  type TransportSecurity,
} from "./client-sasl-policy.ts";
import type { Conversation } from "./conversation.ts";

/** A password, or an OAuth 2.0 access token (XOAUTH2 / OAUTHBEARER). */
export type AuthCredentials = { username: string; password: string } | { username: string; token: string };

export interface AuthPolicy {
  /** smtp_sasl_* security options and mechanism filter; Postern's defaults when absent. */
  sasl?: ClientSaslPolicy;
  /** smtp_sasl_auth_soft_bounce */
  softBounce: boolean;
  timeoutMs: number;
  /** The TLS session carries a verified certificate (smtp_tls_security_level verify/secure). */
  verified?: boolean;
  /** OAUTHBEARER's host and port (RFC 7628 §3.1). */
  host?: string;
  port?: number;
}

export type AuthResult =
  | { ok: true; mechanism: string }
  | {
      ok: false;
      status: "deferred" | "bounced";
      reason: string;
      /** The server refused the credential (5xx to AUTH): smtp_sasl_auth_cache material. */
      rejected?: boolean;
    };

/** Rounds of challenge and response before we give up on a server that never decides. */
const MAX_ROUNDS = 10;

export async function authenticate(
  conversation: Conversation,
  offered: readonly string[],
  credentials: AuthCredentials,
  policy: AuthPolicy,
): Promise<AuthResult> {
  const transport: TransportSecurity = !conversation.secure ? "none" : policy.verified ? "verified" : "tls";
  const kind = "token" in credentials ? "token" : "password";
  const choice = chooseClientMechanism(offered, transport, kind, policy.sasl ?? DEFAULT_CLIENT_SASL_POLICY);
  if (!choice.ok) return { ok: false, status: "deferred", reason: choice.reason };
  const spec = choice.mechanism;
  const client = spec.client({
    authcid: credentials.username,
    ...("token" in credentials ? { token: credentials.token } : { password: credentials.password }),
    service: "smtp",
    ...(policy.host === undefined ? {} : { host: policy.host }),
    ...(policy.port === undefined ? {} : { port: policy.port }),
  });
  const secret = "token" in credentials ? credentials.token : credentials.password;
  const sent: string[] = [secret, bytesToBase64(new TextEncoder().encode(secret))];
  const fail = (reason: string): AuthResult => ({
    ok: false,
    status: "deferred",
    reason: `SASL authentication failed; cannot authenticate to server ${conversation.peer}: ${reason}`,
  });
  const t = policy.timeoutMs;

  let initial: Uint8Array | null;
  try {
    initial = await client.start();
  } catch (error) {
    return fail(printable(error instanceof Error ? error.message : String(error)));
  }
  let line = `AUTH ${spec.name}`;
  if (initial !== null) {
    const encoded = bytesToBase64(initial);
    sent.push(encoded);
    // RFC 4954 §4: "=" is an empty initial response.
    line += ` ${encoded || "="}`;
  }
  let exchange = await conversation.exchange(line, "auth", t);
  for (let round = 0; round < MAX_ROUNDS; round++) {
    if (!exchange.ok) return { ok: false, status: "deferred", reason: exchange.failure.reason };
    const { reply } = exchange;
    if (reply.code >= 200 && reply.code < 300) {
      const finished = await client.finish(null);
      if (finished.kind === "fail") return fail(printable(finished.reason));
      if (spec.properties.mutualAuth && !(finished.kind === "done" && finished.verified)) {
        return fail("the server did not prove that it knows the credential");
      }
      return { ok: true, mechanism: spec.name };
    }
    if (reply.code !== 334) {
      const said = renderReply({ ...reply, lines: reply.lines.map((l) => redact(l, sent)) });
      const permanent = reply.code >= 500;
      return {
        ok: false,
        status: permanent && !policy.softBounce ? "bounced" : "deferred",
        reason: `SASL authentication failed; server ${conversation.peer} said: ${said}`,
        rejected: permanent,
      };
    }
    const step = await answer(client, reply.texts.join(""));
    if (step.kind === "fail") {
      // Cancel the exchange (RFC 4954 §4); the server's 501 adds nothing to our own reason.
      const cancelled = await conversation.exchange("*", "auth", t);
      if (!cancelled.ok) return { ok: false, status: "deferred", reason: cancelled.failure.reason };
      return fail(printable(step.reason));
    }
    const encoded = bytesToBase64(step.response);
    sent.push(encoded);
    exchange = await conversation.exchange(encoded, "auth", t);
  }
  await conversation.exchange("*", "auth", t);
  return fail("the exchange did not end");
}

type Answer = { kind: "respond"; response: Uint8Array } | { kind: "fail"; reason: string };

async function answer(client: ClientMechanism, text: string): Promise<Answer> {
  let challenge: Uint8Array;
  try {
    challenge = base64ToBytes(text.trim());
  } catch {
    return { kind: "fail", reason: "the server's challenge is not base64" };
  }
  const step = await client.step(challenge);
  if (step.kind === "done") return { kind: "fail", reason: "a challenge after the exchange ended" };
  return step;
}

function redact(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const secret of secrets) if (secret !== "") out = out.split(secret).join("[redacted]");
  return out;
}
