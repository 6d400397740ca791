// Drives the real Worker (exports.default) the way a client would: over HTTP, with the admin API
// for set-up. No part of Postern is mocked.
import { env, exports } from "cloudflare:workers";
import { smarthost } from "../smarthost/client.ts";

export const BASE = "https://postern.test";
export const ADMIN = { authorization: "Bearer test-admin-token" };

export const sink = smarthost(env.TEST_SMARTHOST!);

export function call(path: string, init: RequestInit = {}): Promise<Response> {
  return exports.default.fetch(new Request(BASE + path, init));
}

export async function admin(method: string, path: string, body?: unknown): Promise<Response> {
  const headers: Record<string, string> = { ...ADMIN };
  if (body !== undefined) headers["content-type"] = "application/json";
  return call(`/v1/admin${path}`, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
}

export async function setParameters(values: Record<string, string>): Promise<void> {
  for (const [name, value] of Object.entries(values)) {
    const res = await admin("PUT", `/settings/${name}`, { value });
    if (res.status !== 200) throw new Error(`setting ${name}: ${res.status} ${await res.text()}`);
  }
}

export async function resetParameters(names: string[]): Promise<void> {
  for (const name of names) await admin("DELETE", `/settings/${name}`);
}

let counter = 0;
/** A fresh account that owns the given sender addresses; returns its Basic credentials. */
export async function newAccount(
  senders: string[] = [],
  prefix = "user",
): Promise<{ login: string; password: string; basic: string }> {
  const login = `${prefix}${++counter}-${crypto.randomUUID().slice(0, 8)}@example.com`;
  const password = `pw-${crypto.randomUUID()}`;
  const res = await admin("POST", "/accounts", { login, password });
  if (res.status !== 201) throw new Error(`creating ${login}: ${res.status} ${await res.text()}`);
  for (const sender of senders) {
    const map = await admin("PUT", `/maps/sender_login/${encodeURIComponent(sender)}`, { value: login });
    if (map.status !== 200) throw new Error(`mapping ${sender}: ${map.status} ${await map.text()}`);
  }
  return { login, password, basic: basic(login, password) };
}

export function basic(user: string, password: string): string {
  const bytes = new TextEncoder().encode(`${user}:${password}`);
  return `Basic ${btoa(String.fromCharCode(...bytes))}`;
}

export function submitJson(
  authorization: string | null,
  body: unknown,
  extra: Record<string, string> = {},
): Promise<Response> {
  const headers: Record<string, string> = { "content-type": "application/json", ...extra };
  if (authorization) headers.authorization = authorization;
  return call("/v1/messages", { method: "POST", headers, body: JSON.stringify(body) });
}

export function submitRaw(
  authorization: string | null,
  from: string,
  to: string[],
  raw: string | Uint8Array,
): Promise<Response> {
  const query = new URLSearchParams({ from });
  for (const rcpt of to) query.append("to", rcpt);
  const headers: Record<string, string> = { "content-type": "message/rfc822" };
  if (authorization) headers.authorization = authorization;
  return call(`/v1/messages?${query}`, { method: "POST", headers, body: raw });
}

export interface StatusView {
  id: string;
  status: string;
  recipients: {
    address: string;
    status: string;
    reply: string | null;
    attempts: number;
    next_attempt_at: string | null;
  }[];
}

export async function status(authorization: string, id: string): Promise<StatusView> {
  const res = await call(`/v1/messages/${id}`, { headers: { authorization } });
  if (res.status !== 200) throw new Error(`status of ${id}: ${res.status} ${await res.text()}`);
  return res.json();
}

/** Polls the owner's status view until `done` says so (the queue consumer runs on its own). */
export async function waitFor(
  authorization: string,
  id: string,
  done: (view: StatusView) => boolean,
  timeoutMs = 20_000,
): Promise<StatusView> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const view = await status(authorization, id);
    if (done(view)) return view;
    if (Date.now() > deadline) throw new Error(`timed out waiting on ${id}: ${JSON.stringify(view)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export const allFinal = (view: StatusView) =>
  view.recipients.every((r) => r.status === "sent" || r.status === "bounced");

export interface SaslOutcome {
  status: number;
  body: Record<string, unknown>;
  /** The client's own verdict on the server's final data (mutual authentication). */
  serverVerified: boolean | null;
  steps: number;
}

/**
 * Runs a whole exchange through POST /v1/auth/sasl with one of Postern's client mechanisms, as
 * an SMTP front or an app would: start, then continue with each challenge until a verdict.
 */
export async function saslExchange(
  client: import("../../src/core/sasl/mechanism.ts").ClientMechanism,
  mechanism: string,
  origin = BASE,
): Promise<SaslOutcome> {
  const post = (body: unknown) =>
    exports.default.fetch(
      new Request(`${origin}/v1/auth/sasl`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(body),
      }),
    );
  const b64 = (bytes: Uint8Array) => btoa(String.fromCharCode(...bytes));
  const unb64 = (text: string) => Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
  const initial = await client.start();
  let res = await post({ mechanism, response: initial === null ? null : b64(initial) || "=" });
  let steps = 1;
  for (;;) {
    const body = (await res.json()) as Record<string, unknown>;
    if (res.status !== 200 || body.status === "authenticated") {
      let serverVerified: boolean | null = null;
      if (body.status === "authenticated") {
        const finished = await client.finish(typeof body.final === "string" ? unb64(body.final) : null);
        serverVerified = finished.kind === "done" ? finished.verified : false;
      }
      return { status: res.status, body, serverVerified, steps };
    }
    if (steps > 10) throw new Error("exchange did not end");
    const reply = await client.step(unb64(body.challenge as string));
    const response = reply.kind === "respond" ? b64(reply.response) || "=" : "=";
    res = await post({ continuation: body.continuation, response });
    steps++;
  }
}
