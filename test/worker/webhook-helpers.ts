// Set-up for the webhook tests: relay to the test smarthost, receivers made through the admin API,
// requests signed by the Standard Webhooks reference library (never by Postern's own signer).
import { env } from "cloudflare:workers";
import { Webhook } from "standardwebhooks";
import { expect } from "vitest";
import { admin, call, setParameters, sink } from "./helpers.ts";

export async function relayToSink(): Promise<void> {
  const hop = `[127.0.0.1]:${sink.ports.starttls}`;
  await setParameters({
    relayhost: hop,
    smtp_sasl_auth_enable: "yes",
    smtp_tls_security_level: "encrypt",
    smtp_tls_wrappermode: "no",
    minimal_backoff_time: "1s",
    maximal_backoff_time: "2s",
  });
  const res = await admin("PUT", `/maps/sasl_passwd/${encodeURIComponent(hop)}`, {
    value: "relay:relay-secret",
  });
  expect(res.status).toBe(200);
}

export function randomSecret(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(32));
  return `whsec_${btoa(String.fromCharCode(...bytes))}`;
}

export async function accountId(login: string): Promise<string> {
  return (await (await admin("GET", `/accounts/${encodeURIComponent(login)}`)).json<{ id: string }>()).id;
}

export async function createReceiver(
  body: Record<string, unknown>,
): Promise<{ id: string; path: string; secret?: string }> {
  const res = await admin("POST", "/webhooks/receivers", body);
  if (res.status !== 201) throw new Error(`receiver: ${res.status} ${await res.text()}`);
  return res.json();
}

export interface SendOptions {
  secret: string;
  id?: string;
  at?: Date;
  prefix?: "webhook" | "svix";
  /** Changes the body after signing. */
  tamper?: (body: string) => string;
  /** Replaces the signature header (e.g. several entries while rotating). */
  signature?: (signed: string) => string;
}

/** POSTs a payload to a receiver, signed with the standardwebhooks reference library. */
export function sendHook(path: string, payload: unknown, options: SendOptions): Promise<Response> {
  const body = JSON.stringify(payload);
  const id = options.id ?? `msg_${crypto.randomUUID()}`;
  const at = options.at ?? new Date();
  const signed = new Webhook(options.secret).sign(id, at, body);
  const prefix = options.prefix ?? "webhook";
  return call(path, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      [`${prefix}-id`]: id,
      [`${prefix}-timestamp`]: String(Math.floor(at.getTime() / 1000)),
      [`${prefix}-signature`]: options.signature ? options.signature(signed) : signed,
    },
    body: options.tamper ? options.tamper(body) : body,
  });
}

export async function messageCount(accountId: string): Promise<number> {
  const row = await env.DB.prepare("select count(*) as n from messages where account_id = ?")
    .bind(accountId)
    .first<{ n: number }>();
  return row?.n ?? 0;
}

export function decodeBody(b64: string): string {
  return new TextDecoder().decode(Uint8Array.from(atob(b64), (c) => c.charCodeAt(0)));
}
