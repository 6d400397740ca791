// Turns a gateway answer that is not a success into the SMTP reply the adapter gives. Gateway
// problems are RFC 9457 documents carrying the reply Postfix would have sent (smtp_reply) and its
// enhanced code (smtp_status). The rules:
//   - the gateway unreachable, too slow, or failing itself (HTTP 5xx): a 4xx, whatever the text
//     says, so the client keeps the message and retries; never a 5xx for our own trouble;
//   - a refusal (HTTP 4xx) with an SMTP reply: that reply (Postfix's words and codes);
//   - a refusal with only an enhanced code: a reply of that class;
//   - our session token refused (401 while we sent one: it expired or the login was disabled
//     meanwhile): a 4xx that says to authenticate again;
//   - anything else: a 4xx (the fallback), since we cannot tell the client its mail is bad.
import { makeReply, type SmtpReply } from "../../core/policy/smtp-reply.ts";
import type { GatewayResponse } from "./gateway-client.ts";

export interface GatewayProblem {
  status: number;
  slug: string | null;
  detail: string | null;
  smtpReply: string | null;
  smtpStatus: string | null;
}

export const AUTH_EXPIRED: Readonly<SmtpReply> = Object.freeze({
  code: 451,
  enhanced: "4.7.0",
  text: "Error: authentication expired or revoked; authenticate again",
});

export function problemOf(response: GatewayResponse): GatewayProblem {
  const body = (response.json ?? {}) as Record<string, unknown>;
  const text = (value: unknown) => (typeof value === "string" ? value : null);
  const type = text(body.type);
  return {
    status: response.status,
    slug: type ? (type.split("/").pop() ?? null) : null,
    detail: text(body.detail),
    smtpReply: text(body.smtp_reply),
    smtpStatus: text(body.smtp_status),
  };
}

export function replyForProblem(
  problem: GatewayProblem,
  options: { sentToken: boolean; fallback: SmtpReply },
): SmtpReply {
  const parsed = problem.smtpReply ? parseReply(problem.smtpReply) : null;
  if (problem.status >= 500 || problem.status < 400) {
    return parsed && parsed.code < 500 ? parsed : { ...options.fallback };
  }
  if (problem.status === 401 && options.sentToken && problem.slug === "authentication-failed") {
    return { ...AUTH_EXPIRED };
  }
  if (parsed) return parsed;
  const klass = problem.smtpStatus?.[0];
  if (problem.smtpStatus && (klass === "4" || klass === "5")) {
    const code = klass === "4" ? 451 : problem.smtpStatus === "5.3.4" ? 552 : 554;
    return makeReply(code, problem.smtpStatus, problem.detail ?? "Error: refused by the gateway");
  }
  return { ...options.fallback };
}

/** "554 5.7.1 <x@y>: Relay access denied" -> its parts; null unless a 4xx/5xx with a code. */
export function parseReply(line: string): SmtpReply | null {
  const match = /^([45]\d\d) ([45]\.\d{1,3}\.\d{1,3}) (.*)$/s.exec(line.trim());
  if (!match) return null;
  return makeReply(Number(match[1]), match[2]!, match[3]!);
}
