// Managed OAuth 2.0 for an XOAUTH2 smarthost, end to end on the Node runtime: the credential is
// stored through the admin API, a message submitted over HTTP is relayed by the local queue to a
// real smtp-server (npm) that only takes XOAUTH2 over STARTTLS, and the access token comes from a
// local OAuth 2.0 token endpoint: refreshed with fetch, cached until it expires, a rotated refresh
// token stored, a refused token renewed, a refused refresh deferred.
import { spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { SMTPServer } from "smtp-server";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type RunningNodeServer, startNodeServer } from "../../src/node/node-server.ts";
import { makeTestCertificates } from "../smarthost/certificates.ts";

const ADMIN_TOKEN = "oauth2-admin-token-0123456789";
const SECRET_KEY = `k1:${Buffer.alloc(32, 7).toString("base64")}`;
const CLIENT_SECRET = "client-secret-that-must-never-show";
const certificates = makeTestCertificates(path.resolve(".wrangler/test-certs"));
const scratch = mkdtempSync(path.join(tmpdir(), "postern-oauth2-"));

/** The token endpoint: rotates the refresh token on every use, as Microsoft's does. */
const provider = {
  refreshToken: "rt-0",
  generation: 0,
  lifetime: 3600,
  /** Answer refreshes with this error instead. */
  failWith: null as string | null,
  calls: [] as URLSearchParams[],
  /** Access tokens the SMTP server accepts. */
  valid: new Set<string>(),
};

const smtp = {
  /** Messages accepted, with the user and token they authenticated with. */
  received: [] as { user: string; token: string; rcpt: string[] }[],
  authAttempts: 0,
};

let tokenServer: http.Server;
let tokenEndpoint: string;
let smtpServer: SMTPServer;
let smtpPort: number;
let gateway: RunningNodeServer;

beforeAll(async () => {
  tokenServer = http.createServer(async (request, response) => {
    let body = "";
    for await (const chunk of request) body += chunk;
    const form = new URLSearchParams(body);
    provider.calls.push(form);
    const json = (status: number, value: unknown) => {
      response.writeHead(status, { "content-type": "application/json" });
      response.end(JSON.stringify(value));
    };
    if (form.get("grant_type") !== "refresh_token" || form.get("client_id") !== "postern-app") {
      return json(400, { error: "invalid_request" });
    }
    if (form.get("client_secret") !== CLIENT_SECRET) return json(401, { error: "invalid_client" });
    if (provider.failWith)
      return json(400, { error: provider.failWith, error_description: "refused by test" });
    if (form.get("refresh_token") !== provider.refreshToken) {
      return json(400, { error: "invalid_grant", error_description: "refresh token already used" });
    }
    provider.generation += 1;
    const accessToken = `at-${provider.generation}-${crypto.randomUUID()}`;
    provider.refreshToken = `rt-${provider.generation}`;
    provider.valid.add(accessToken);
    json(200, {
      token_type: "Bearer",
      access_token: accessToken,
      expires_in: provider.lifetime,
      refresh_token: provider.refreshToken,
      scope: form.get("scope") ?? "",
    });
  });
  tokenServer.listen(0, "127.0.0.1");
  await once(tokenServer, "listening");
  tokenEndpoint = `http://127.0.0.1:${(tokenServer.address() as AddressInfo).port}/oauth2/v2.0/token`;

  smtpServer = new SMTPServer({
    name: "oauth2.smarthost.test",
    logger: false,
    authMethods: ["XOAUTH2"],
    key: readFileSync(certificates.keyFile),
    cert: readFileSync(certificates.certFile),
    onAuth(auth, _session, callback) {
      smtp.authAttempts += 1;
      if (
        auth.method === "XOAUTH2" &&
        auth.username === "sender@contoso.test" &&
        provider.valid.has(auth.accessToken ?? "")
      ) {
        return callback(null, { user: `${auth.username} ${auth.accessToken}` });
      }
      callback(null, {
        data: { status: "401", schemes: "bearer", scope: "https://outlook.office.com/SMTP.Send" },
      });
    },
    onData(stream, session, callback) {
      stream.resume();
      stream.on("end", () => {
        const [user = "", token = ""] = String(session.user).split(" ");
        smtp.received.push({ user, token, rcpt: session.envelope.rcptTo.map((r) => r.address) });
        callback(null);
      });
    },
  });
  smtpServer.on("error", () => {});
  smtpServer.listen(0, "127.0.0.1");
  await once(smtpServer.server, "listening");
  smtpPort = (smtpServer.server.address() as AddressInfo).port;

  gateway = await startNodeServer({
    dataDir: path.join(scratch, "data"),
    port: 0,
    adminToken: ADMIN_TOKEN,
    secretKey: SECRET_KEY,
    settingsOverrides: {
      relayhost: `[127.0.0.1]:${smtpPort}`,
      smtp_sasl_auth_enable: "yes",
      smtp_tls_security_level: "encrypt",
      minimal_backoff_time: "1s",
      maximal_backoff_time: "1s",
      smtp_connect_timeout: "5s",
    },
  });
  await admin("PUT", "/relay/oauth2/m365", {
    token_endpoint: tokenEndpoint,
    client_id: "postern-app",
    client_secret: CLIENT_SECRET,
    refresh_token: "rt-0",
    scope: "https://outlook.office.com/SMTP.Send offline_access",
  });
  await admin("PUT", `/maps/sasl_passwd/${encodeURIComponent(`[127.0.0.1]:${smtpPort}`)}`, {
    value: "sender@contoso.test:oauth2:m365",
  });
}, 30_000);

afterAll(async () => {
  await gateway?.stop();
  smtpServer?.close();
  tokenServer?.close();
  rmSync(scratch, { recursive: true, force: true });
});

beforeEach(() => {
  provider.calls = [];
  provider.failWith = null;
  provider.lifetime = 3600;
});

async function admin(method: string, route: string, body?: unknown): Promise<unknown> {
  const headers: Record<string, string> = { authorization: `Bearer ${ADMIN_TOKEN}` };
  if (body !== undefined) headers["content-type"] = "application/json";
  const res = await fetch(`${gateway.url}/v1/admin${route}`, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${route}: ${res.status} ${text}`);
  return text ? JSON.parse(text) : null;
}

let sender: string | null = null;
async function submit(rcpt: string): Promise<string> {
  if (!sender) {
    const password = `pw-${crypto.randomUUID()}`;
    await admin("POST", "/accounts", { login: "app@contoso.test", password });
    await admin("PUT", "/maps/sender_login/app@contoso.test", { value: "app@contoso.test" });
    sender = `Basic ${Buffer.from(`app@contoso.test:${password}`).toString("base64")}`;
  }
  const query = new URLSearchParams({ from: "app@contoso.test", to: rcpt });
  const res = await fetch(`${gateway.url}/v1/messages?${query}`, {
    method: "POST",
    headers: { authorization: sender, "content-type": "message/rfc822" },
    body: `From: app@contoso.test\r\nSubject: ${rcpt}\r\n\r\nhello\r\n`,
  });
  if (res.status !== 202) throw new Error(`submission: ${res.status} ${await res.text()}`);
  return ((await res.json()) as { id: string }).id;
}

interface QueueView {
  status: string;
  recipients: { status: string; reply: string | null }[];
}

async function settled(
  id: string,
  want: (view: QueueView) => boolean,
  timeoutMs = 15_000,
): Promise<QueueView> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const view = (await admin("GET", `/queue/${id}`)) as QueueView;
    if (want(view)) return view;
    if (Date.now() > deadline) throw new Error(`queue ${id} never settled: ${JSON.stringify(view)}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

const sent = (view: QueueView) => view.recipients[0]?.status === "sent";
const deferredWith = (text: string) => (view: QueueView) =>
  view.recipients[0]?.status === "deferred" && (view.recipients[0]?.reply ?? "").includes(text);

describe("XOAUTH2 with a managed OAuth 2.0 credential", () => {
  it("refreshes once, relays with the access token, and caches it for the next message", async () => {
    await settled(await submit("first@example.net"), sent);
    await settled(await submit("second@example.net"), sent);
    expect(provider.calls).toHaveLength(1);
    expect(provider.calls[0]!.get("refresh_token")).toBe("rt-0");
    expect(provider.calls[0]!.get("scope")).toBe("https://outlook.office.com/SMTP.Send offline_access");
    const [first, second] = smtp.received.slice(-2);
    expect(first).toMatchObject({ user: "sender@contoso.test", rcpt: ["first@example.net"] });
    expect(second!.token).toBe(first!.token);
  });

  it("the admin API shows the credential, never its secrets", async () => {
    const listed = JSON.stringify(await admin("GET", "/relay/oauth2"));
    expect(listed).toContain('"name":"m365"');
    expect(listed).toContain('"hasClientSecret":true');
    expect(listed).toMatch(/"accessTokenExpiresAt":\d+/);
    for (const secret of [CLIENT_SECRET, provider.refreshToken, ...provider.valid])
      expect(listed).not.toContain(secret);
    const maps = JSON.stringify(await admin("GET", "/maps/sasl_passwd"));
    expect(maps).not.toContain("oauth2:m365");
  });

  it("an expiring token is renewed with the rotated refresh token each time", async () => {
    // Within EXPIRY_MARGIN_MS of expiry from the start: every use renews.
    provider.lifetime = 30;
    await admin("PUT", "/relay/oauth2/m365", {
      token_endpoint: tokenEndpoint,
      client_id: "postern-app",
      client_secret: CLIENT_SECRET,
      refresh_token: provider.refreshToken,
    });
    await settled(await submit("third@example.net"), sent);
    await settled(await submit("fourth@example.net"), sent);
    // The second refresh used the token the first one rotated in (the old one is refused).
    expect(provider.calls.map((c) => c.get("refresh_token"))).toEqual([
      `rt-${provider.generation - 2}`,
      `rt-${provider.generation - 1}`,
    ]);
    const [third, fourth] = smtp.received.slice(-2);
    expect(third!.token).not.toBe(fourth!.token);
  });

  it("a token the smarthost refuses is dropped and renewed on the next attempt", async () => {
    await admin("PUT", "/relay/oauth2/m365", {
      token_endpoint: tokenEndpoint,
      client_id: "postern-app",
      client_secret: CLIENT_SECRET,
      refresh_token: provider.refreshToken,
    });
    await settled(await submit("fifth@example.net"), sent);
    // Revoke every token issued so far: the cached one fails with XOAUTH2's 334 error, then 535.
    provider.valid.clear();
    const attempts = smtp.authAttempts;
    const calls = provider.calls.length;
    const view = await settled(await submit("sixth@example.net"), sent, 20_000);
    expect(view.recipients[0]!.status).toBe("sent");
    expect(smtp.authAttempts - attempts).toBe(2);
    expect(provider.calls.length - calls).toBe(1);
  });

  it("a refused refresh defers with the provider's error, and nothing is sent", async () => {
    provider.failWith = "invalid_grant";
    await admin("PUT", "/relay/oauth2/m365", {
      token_endpoint: tokenEndpoint,
      client_id: "postern-app",
      client_secret: CLIENT_SECRET,
      refresh_token: provider.refreshToken,
    });
    const before = smtp.received.length;
    const view = await settled(
      await submit("seventh@example.net"),
      deferredWith('OAuth2 token refresh for "m365"'),
    );
    expect(view.recipients[0]!.reply).toBe(
      `OAuth2 token refresh for "m365" at ${tokenEndpoint} failed: invalid_grant (refused by test)`,
    );
    expect(smtp.received.length).toBe(before);
    // Fixed at the provider: the queue delivers it on its next run.
    provider.failWith = null;
    await admin("POST", "/queue/flush");
    await settled(await submit("eighth@example.net"), sent);
  });

  it("an unknown credential name defers", async () => {
    await admin("PUT", `/maps/sasl_passwd/${encodeURIComponent(`[127.0.0.1]:${smtpPort}`)}`, {
      value: "sender@contoso.test:oauth2:nope",
    });
    try {
      await settled(
        await submit("ninth@example.net"),
        deferredWith('OAuth2 credential "nope" does not exist'),
      );
    } finally {
      await admin("PUT", `/maps/sasl_passwd/${encodeURIComponent(`[127.0.0.1]:${smtpPort}`)}`, {
        value: "sender@contoso.test:oauth2:m365",
      });
    }
  });
});

describe("npm run admin -- relay ...", () => {
  async function cli(args: string[], stdin = ""): Promise<string> {
    const child = spawn(process.execPath, ["src/cli/admin.ts", ...args], {
      env: { ...process.env, POSTERN_URL: gateway.url, POSTERN_ADMIN_TOKEN: ADMIN_TOKEN },
      stdio: ["pipe", "pipe", "pipe"],
    });
    child.stdin.end(stdin);
    let out = "";
    let err = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
      out += chunk;
    });
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => {
      err += chunk;
    });
    const [code] = (await once(child, "exit")) as [number];
    if (code !== 0) throw new Error(`admin ${args.join(" ")}: exit ${code}: ${err}`);
    return out;
  }

  it("sets a credential with the refresh token from stdin, lists it without secrets, re-seals, deletes", async () => {
    const set = await cli(
      [
        "relay",
        "oauth2",
        "set",
        "from-cli",
        "--token-endpoint",
        tokenEndpoint,
        "--client-id",
        "postern-app",
        "--client-secret",
        CLIENT_SECRET,
        "--refresh-token",
        "-",
      ],
      "refresh-from-stdin\n",
    );
    expect(JSON.parse(set)).toEqual({ name: "from-cli", password_map_value: "oauth2:from-cli" });
    const listed = await cli(["relay", "oauth2", "list"]);
    expect(listed).toContain('"name": "from-cli"');
    expect(listed).not.toContain("refresh-from-stdin");
    expect(listed).not.toContain(CLIENT_SECRET);
    expect(JSON.parse(await cli(["relay", "auth-cache"]))).toEqual({ entries: [] });
    expect(JSON.parse(await cli(["relay", "reseal"]))).toEqual({
      key: "k1",
      resealed: { map_entries: 0, oauth2: 0 },
    });
    expect(await cli(["relay", "oauth2", "del", "from-cli"])).toBe("deleted from-cli\n");
  });
});
