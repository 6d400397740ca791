// Client side of SMTP AUTH (RFC 4954) toward the smarthost, as Postfix's smtp_sasl_glue.c does it:
// pick the first mechanism both sides allow, and word failures the way Postfix logs them.
// The password never appears in a reason: replies that echo a credential are redacted.

import { bytesToBase64 } from "../../encoding/base64.ts";
import { renderReply } from "../reply.ts";
import type { Conversation } from "./conversation.ts";

export interface AuthCredentials {
  username: string;
  password: string;
}

export interface AuthPolicy {
  /** smtp_sasl_security_options without noplaintext */
  plaintextWithoutTls: boolean;
  /** smtp_sasl_auth_soft_bounce */
  softBounce: boolean;
  timeoutMs: number;
}

export type AuthResult =
  | { ok: true; mechanism: ClientMechanism }
  | { ok: false; status: "deferred" | "bounced"; reason: string };

/** Mechanisms the client can run, in order of preference, with their security properties. */
export const CLIENT_MECHANISMS = [
  { name: "PLAIN", plaintext: true },
  { name: "LOGIN", plaintext: true },
] as const;

export type ClientMechanism = (typeof CLIENT_MECHANISMS)[number]["name"];

/** The preferred mechanism the server offers and the policy allows on this connection. */
export function chooseMechanism(
  offered: readonly string[],
  secure: boolean,
  plaintextWithoutTls: boolean,
): ClientMechanism | null {
  const usable = CLIENT_MECHANISMS.filter(
    (m) => offered.includes(m.name) && (secure || plaintextWithoutTls || !m.plaintext),
  );
  return usable[0]?.name ?? null;
}

export async function authenticate(
  conversation: Conversation,
  offered: readonly string[],
  credentials: AuthCredentials,
  policy: AuthPolicy,
): Promise<AuthResult> {
  const mechanism = chooseMechanism(offered, conversation.secure, policy.plaintextWithoutTls);
  if (!mechanism) {
    return { ok: false, status: "deferred", reason: "SASL authentication failure: No worthy mechs found" };
  }
  const plain = base64(`\0${credentials.username}\0${credentials.password}`);
  const steps =
    mechanism === "PLAIN"
      ? [`AUTH PLAIN ${plain}`]
      : ["AUTH LOGIN", base64(credentials.username), base64(credentials.password)];
  const secrets = [credentials.password, base64(credentials.password), plain].filter((s) => s !== "");
  const t = policy.timeoutMs;

  for (const [i, step] of steps.entries()) {
    const last = i === steps.length - 1;
    let exchange = await conversation.exchange(step, "auth", t);
    if (exchange.ok && !last && exchange.reply.code === 334) continue;
    if (exchange.ok && last && exchange.reply.code >= 200 && exchange.reply.code < 300) {
      return { ok: true, mechanism };
    }
    if (exchange.ok && exchange.reply.code === 334) {
      // A challenge we have no answer for: cancel the exchange (RFC 4954 §4) and report its reply.
      exchange = await conversation.exchange("*", "auth", t);
    }
    if (!exchange.ok) return { ok: false, status: "deferred", reason: exchange.failure.reason };
    const bounce = exchange.reply.code >= 500 && !policy.softBounce;
    const said = renderReply({
      ...exchange.reply,
      lines: exchange.reply.lines.map((l) => redact(l, secrets)),
    });
    return {
      ok: false,
      status: bounce ? "bounced" : "deferred",
      reason: `SASL authentication failed; server ${conversation.peer} said: ${said}`,
    };
  }
  throw new Error("unreachable: the last AUTH step always decides");
}

function redact(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const secret of secrets) out = out.split(secret).join("[redacted]");
  return out;
}

function base64(text: string): string {
  return bytesToBase64(new TextEncoder().encode(text));
}
