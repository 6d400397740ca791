// Webhooks on the Node runtime (SQLite, the local event poller): a Supabase hook signed by the
// reference library becomes a delivered mail, and delivery events reach a real HTTP receiver,
// with one retry after a 500 made by the poller on the Standard Webhooks schedule (5 s).
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { Webhook } from "standardwebhooks";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningNodeServer, startNodeServer } from "../../src/node/node-server.ts";
import { type Smarthost, smarthost } from "../smarthost/client.ts";
import { type RunningSmarthost, startSmarthost } from "../smarthost/spawn.ts";
import { webhookReceiver } from "../webhook-receiver/client.ts";
import { startWebhookReceiver } from "../webhook-receiver/server.ts";

const run = promisify(execFile);
const ADMIN_TOKEN = "node-admin-token-webhooks-0123";
const SECRET_KEY = `k1:${Buffer.alloc(32, 7).toString("base64")}`;
const scratch = mkdtempSync(path.join(tmpdir(), "postern-webhooks-"));

let running: RunningSmarthost;
let sink: Smarthost;
let receiverServer: Awaited<ReturnType<typeof startWebhookReceiver>>;
let receiver: ReturnType<typeof webhookReceiver>;
let server: RunningNodeServer;

async function admin(method: string, route: string, body?: unknown): Promise<Record<string, unknown>> {
  const res = await fetch(`${server.url}/v1/admin${route}`, {
    method,
    headers: { authorization: `Bearer ${ADMIN_TOKEN}`, "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (!res.ok) throw new Error(`${method} ${route}: ${res.status} ${await res.text()}`);
  return res.json() as Promise<Record<string, unknown>>;
}

beforeAll(async () => {
  running = await startSmarthost();
  sink = smarthost(running.json);
  receiverServer = await startWebhookReceiver();
  receiver = webhookReceiver(receiverServer.url);
  server = await startNodeServer({
    dataDir: scratch,
    port: 0,
    adminToken: ADMIN_TOKEN,
    secretKey: SECRET_KEY,
    settingsOverrides: {
      relayhost: `[127.0.0.1]:${sink.ports.open}`,
      minimal_backoff_time: "1s",
      maximal_backoff_time: "1s",
    },
    smtp: { port: null, tlsPort: 0, parameters: { smtpd_sasl_auth_enable: "yes" } },
  });
  await admin("POST", "/accounts", { login: "app@example.com", password: "app-password-123" });
  await admin("PUT", `/maps/sender_login/${encodeURIComponent("auth@node.example")}`, {
    value: "app@example.com",
  });
});

afterAll(async () => {
  await server?.stop();
  await receiverServer?.stop();
  await running?.stop();
  rmSync(scratch, { recursive: true, force: true });
});

describe("webhooks on the Node runtime", () => {
  it("a Supabase recovery hook is delivered once; its replay sends nothing; events arrive, one after a retry", async () => {
    await receiver.script("node-events", [500]);
    const endpoint = await admin("POST", "/webhooks/endpoints", {
      account: "app@example.com",
      url: receiver.url("node-events"),
      events: ["message.accepted", "message.sent"],
    });
    const secret = `whsec_${Buffer.alloc(32, 3).toString("base64")}`;
    const hook = await admin("POST", "/webhooks/receivers", {
      account: "app@example.com",
      kind: "supabase",
      secret: `v1,${secret}`,
      config: { from: "auth@node.example", supabase_url: "https://ref.supabase.co" },
    });
    const body = JSON.stringify({
      user: { id: "u1", email: "reset@example.net" },
      email_data: {
        token: "424242",
        token_hash: "th",
        redirect_to: "",
        email_action_type: "recovery",
        site_url: "",
      },
    });
    const id = "msg_node_1";
    const now = new Date();
    const headers = {
      "content-type": "application/json",
      "webhook-id": id,
      "webhook-timestamp": String(Math.floor(now.getTime() / 1000)),
      "webhook-signature": new Webhook(secret).sign(id, now, body),
    };
    const first = await fetch(`${server.url}${hook.path}`, { method: "POST", headers, body });
    expect(first.status).toBe(200);
    const replay = await fetch(`${server.url}${hook.path}`, { method: "POST", headers, body });
    expect(replay.status).toBe(200);

    const [got] = await sink.waitForMessages("reset@example.net");
    expect(got!.mailFrom).toBe("auth@node.example");
    // accepted: 500 then retried; sent: 200. Three requests, two distinct events.
    const hooks = await receiver.waitFor("node-events", 3, 30_000);
    const types = hooks.map((h) => (JSON.parse(h.body) as { type: string }).type);
    expect(types.filter((t) => t === "message.accepted")).toHaveLength(2);
    expect(types.filter((t) => t === "message.sent")).toHaveLength(1);
    const accepted = hooks.filter((h) => h.body.includes("message.accepted"));
    expect(accepted[0]!.headers["webhook-id"]).toBe(accepted[1]!.headers["webhook-id"]);
    for (const h of hooks) {
      const ts = Number(h.headers["webhook-timestamp"]);
      expect(h.headers["webhook-signature"]).toBe(
        new Webhook(endpoint.secret as string).sign(h.headers["webhook-id"]!, new Date(ts * 1000), h.body),
      );
    }
    expect(await sink.messages("reset@example.net")).toHaveLength(1);
  }, 60_000);

  it("a message submitted over SMTP (swaks, implicit TLS) reports message.accepted too", async () => {
    await admin("POST", "/webhooks/endpoints", {
      account: "app@example.com",
      url: receiver.url("node-smtp"),
      events: ["message.accepted"],
    });
    // biome-ignore format: option/value pairs read better side by side
    const { stdout } = await run("swaks", [
      "--server", "127.0.0.1", "--port", String(server.smtp!.tlsPort), "--tls-on-connect",
      "--auth", "PLAIN", "--auth-user", "app@example.com", "--auth-password", "app-password-123",
      "--from", "auth@node.example", "--to", "smtp-rcpt@example.net", "--timeout", "10",
    ]);
    const id = /<~ {1,2}250 2\.0\.0 Ok: queued as (\S+)/.exec(stdout)?.[1];
    expect(id).toBeDefined();
    const [hook] = await receiver.waitFor("node-smtp", 1, 30_000);
    expect(JSON.parse(hook!.body)).toMatchObject({
      type: "message.accepted",
      data: {
        message_id: id,
        from: "auth@node.example",
        to: ["smtp-rcpt@example.net"],
        sasl_username: "app@example.com",
      },
    });
  }, 60_000);

  it("a wrong password over SMTP (swaks) reports auth.failed for that login, without the password", async () => {
    await admin("POST", "/webhooks/endpoints", {
      account: "app@example.com",
      url: receiver.url("node-smtp-auth"),
      events: ["auth.failed"],
    });
    // biome-ignore format: option/value pairs read better side by side
    const refused = run("swaks", [
      "--server", "127.0.0.1", "--port", String(server.smtp!.tlsPort), "--tls-on-connect",
      "--auth", "PLAIN", "--auth-user", "app@example.com", "--auth-password", "not-the-password-9",
      "--from", "auth@node.example", "--to", "smtp-rcpt@example.net", "--timeout", "10",
    ]);
    await expect(refused).rejects.toMatchObject({ stdout: expect.stringMatching(/<~\* +535 5\.7\.8 /) });
    const [hook] = await receiver.waitFor("node-smtp-auth", 1, 30_000);
    expect(JSON.parse(hook!.body)).toMatchObject({
      type: "auth.failed",
      data: { login: "app@example.com", mechanism: "PLAIN", reason: "authentication failure" },
    });
    expect(hook!.body).not.toContain("not-the-password-9");
  }, 60_000);
});
