// The Node runtime end to end against a real SMTP smarthost process: HTTP submission -> SQLite +
// body files -> local poller -> node:net relay. Then crash safety: a process SIGKILLed with mail
// queued (smarthost down) loses nothing, and the next process on the same data folder delivers
// every message exactly once.
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { once } from "node:events";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import http from "node:http";
import { networkInterfaces, tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { inArray } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { messages } from "../../src/db/schema.ts";
import { type RunningNodeServer, startNodeServer } from "../../src/node/node-server.ts";
import { forgesLoopback, peerAddress } from "../../src/node/peer-request.ts";
import { openSqliteDatabase } from "../../src/node/sqlite-database.ts";
import { bodyBytes, type Smarthost, smarthost } from "../smarthost/client.ts";
import { type RunningSmarthost, startSmarthost } from "../smarthost/spawn.ts";

const MAIN = fileURLToPath(new URL("../../src/node/main.ts", import.meta.url));
const ADMIN_CLI = fileURLToPath(new URL("../../src/cli/admin.ts", import.meta.url));
const ADMIN_TOKEN = "node-admin-token-0123456789";
const SECRET_KEY = `k1:${Buffer.alloc(32, 9).toString("base64")}`;
const scratch = mkdtempSync(path.join(tmpdir(), "postern-node-"));

let running: RunningSmarthost;
let sink: Smarthost;

beforeAll(async () => {
  running = await startSmarthost();
  sink = smarthost(running.json);
});

afterAll(async () => {
  await running?.stop();
  rmSync(scratch, { recursive: true, force: true });
});

/** The deployment settings: relay to the smarthost's open port (no TLS, no AUTH), retry fast. */
function relaySettings(): Record<string, string> {
  return {
    relayhost: `[127.0.0.1]:${sink.ports.open}`,
    minimal_backoff_time: "1s",
    maximal_backoff_time: "1s",
    smtp_connect_timeout: "2s",
  };
}

function client(base: string) {
  const call = (route: string, init: RequestInit = {}) => fetch(base + route, init);
  const admin = async (method: string, route: string, body?: unknown) => {
    const headers: Record<string, string> = { authorization: `Bearer ${ADMIN_TOKEN}` };
    if (body !== undefined) headers["content-type"] = "application/json";
    const res = await call(`/v1/admin${route}`, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (!res.ok) throw new Error(`${method} ${route}: ${res.status} ${await res.text()}`);
    return res.status === 204 ? null : res.json();
  };
  return {
    call,
    admin,
    async newSender(login: string, sender: string) {
      const password = `pw-${crypto.randomUUID()}`;
      await admin("POST", "/accounts", { login, password });
      await admin("PUT", `/maps/sender_login/${encodeURIComponent(sender)}`, { value: login });
      return `Basic ${Buffer.from(`${login}:${password}`).toString("base64")}`;
    },
    async submitRaw(authorization: string, from: string, to: string[], raw: string, headers = {}) {
      const query = new URLSearchParams({ from });
      for (const rcpt of to) query.append("to", rcpt);
      const res = await call(`/v1/messages?${query}`, {
        method: "POST",
        headers: { authorization, "content-type": "message/rfc822", ...headers },
        body: raw,
      });
      const text = await res.text();
      if (res.status !== 202) throw new Error(`submission: ${res.status} ${text}`);
      return (JSON.parse(text) as { id: string }).id;
    },
    async queued(id: string) {
      return (await admin("GET", `/queue/${id}`)) as {
        status: string;
        client_address: string;
        recipients: { status: string; reply: string | null }[];
        attempts: number;
      };
    },
  };
}

async function until<T>(
  probe: () => Promise<T | undefined | false>,
  timeoutMs: number,
  what: string,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe("the Node runtime in-process", () => {
  let server: RunningNodeServer;
  const dataDir = path.join(scratch, "in-process");

  beforeAll(async () => {
    await sink.up();
    server = await startNodeServer({
      dataDir,
      port: 0,
      adminToken: ADMIN_TOKEN,
      secretKey: SECRET_KEY,
      settingsOverrides: relaySettings(),
    });
  });

  afterAll(() => server?.stop());

  it("delivers a message accepted over HTTP to the smarthost, byte for byte", async () => {
    await sink.clear();
    const api = client(server.url);
    const auth = await api.newSender("alice@example.com", "alice@example.com");
    const raw = "From: alice@example.com\r\nSubject: node one\r\n\r\n.leading dot\r\ncaf\u00e9\r\n";
    // A client-sent CF-Connecting-IP means nothing on Node: the address is the socket's.
    const id = await api.submitRaw(auth, "alice@example.com", ["bob@example.net"], raw, {
      "cf-connecting-ip": "203.0.113.9",
    });
    const bodyFile = path.join(dataDir, "bodies", "bodies", id);
    expect(readFileSync(bodyFile, "utf8")).toBe(raw);

    const [got] = await sink.waitForMessages("bob@example.net", 1, 10_000);
    expect(got).toMatchObject({ server: "open", mailFrom: "alice@example.com", rcptTo: ["bob@example.net"] });
    expect(new TextDecoder().decode(bodyBytes(got!))).toBe(raw);

    const view = await until(
      async () => {
        const v = await api.queued(id);
        return v.status === "done" && v;
      },
      5_000,
      "status done",
    );
    expect(view.recipients[0]).toMatchObject({ status: "sent" });
    expect(view.recipients[0]!.reply).toMatch(/^250 2\.0\.0 Ok: queued as /);
    expect(view.client_address).toBe("127.0.0.1");
  });

  it("refuses a loopback Host header from a remote peer (plain HTTP would pass for confidential)", async () => {
    expect(peerAddress("::ffff:192.0.2.7")).toBe("192.0.2.7");
    expect(forgesLoopback(new URL("http://localhost/v1/messages"), "192.0.2.7")).toBe(true);
    expect(forgesLoopback(new URL("http://localhost/v1/messages"), "127.0.0.1")).toBe(false);
    expect(forgesLoopback(new URL("http://mail.example.com/v1/messages"), "192.0.2.7")).toBe(false);
    expect(forgesLoopback(new URL("https://localhost/v1/messages"), "192.0.2.7")).toBe(false);

    // Over a real socket when this machine has a non-loopback address to listen on.
    const external = Object.values(networkInterfaces())
      .flat()
      .find((a) => a && a.family === "IPv4" && !a.internal)?.address;
    if (!external) return;
    const remote = await startNodeServer({
      dataDir: path.join(scratch, "external"),
      host: external,
      port: 0,
    });
    try {
      // fetch() will not send a Host header of our choosing; node:http will.
      const request = http.get({
        host: external,
        port: remote.port,
        path: "/healthz",
        headers: { host: "localhost" },
      });
      const [response] = (await once(request, "response")) as [http.IncomingMessage];
      response.resume();
      expect(response.statusCode).toBe(421);
      expect((await fetch(`${remote.url}/healthz`)).status).toBe(200);
    } finally {
      await remote.stop();
    }
  });
});

/** main.ts as a child process, as `node src/node/main.ts` runs it. */
async function startMain(
  dataDir: string,
  extraEnv: Record<string, string> = {},
): Promise<{ child: ChildProcess; url: string; output: () => string }> {
  const child = spawn(process.execPath, [MAIN], {
    env: {
      ...process.env,
      POSTERN_DATA_DIR: dataDir,
      POSTERN_HTTP_PORT: "0",
      POSTERN_SMTP_PORT: "0",
      POSTERN_SMTPS_PORT: "0",
      POSTERN_ADMIN_TOKEN: ADMIN_TOKEN,
      POSTERN_SECRET_KEY: SECRET_KEY,
      ...relaySettings(),
      ...extraEnv,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  children.add(child);
  child.once("exit", () => children.delete(child));
  let output = "";
  child.stderr!.setEncoding("utf8").on("data", (chunk: string) => {
    output += chunk;
  });
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`main.ts did not start:\n${output}`)), 10_000);
    child.stdout!.setEncoding("utf8").on("data", (chunk: string) => {
      output += chunk;
      const match = /listening on (http:\/\/\S+),/.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]!);
      }
    });
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`main.ts exited with ${code}:\n${output}`));
    });
  });
  return { child, url, output: () => output };
}

const children = new Set<ChildProcess>();
afterAll(() => {
  for (const child of children) child.kill("SIGKILL");
});

describe("crash safety of main.ts", () => {
  it("a SIGKILLed process loses nothing: after a restart every message is delivered exactly once", async () => {
    const dataDir = path.join(scratch, "crash");
    const count = 6;
    await sink.clear();
    await sink.down();

    const first = await startMain(dataDir);
    const api = client(first.url);
    const auth = await api.newSender("crash@example.com", "crash@example.com");
    const ids: string[] = [];
    for (let i = 0; i < count; i++) {
      const raw = `From: crash@example.com\r\nSubject: crash ${i}\r\n\r\nbody ${i}\r\n`;
      ids.push(await api.submitRaw(auth, "crash@example.com", [`crash${i}@example.net`], raw));
    }
    // The smarthost refuses connections: the first attempts defer (and some may be mid-flight).
    await until(async () => (await api.queued(ids[0]!)).attempts > 0, 10_000, "a deferred attempt");

    first.child.kill("SIGKILL");
    await once(first.child, "exit");
    expect(existsSync(path.join(dataDir, "postern.lock"))).toBe(true);
    for (const id of ids) expect(existsSync(path.join(dataDir, "bodies", "bodies", id))).toBe(true);

    // What a kill in the middle of a delivery leaves: rows leased for LEASE_MS (10 minutes).
    const file = await openSqliteDatabase(path.join(dataDir, "postern.db"));
    await file.db
      .update(messages)
      .set({ leaseUntil: Date.now() + 10 * 60_000 })
      .where(inArray(messages.id, ids.slice(0, 3)));
    file.close();

    await sink.up();
    const second = await startMain(dataDir);
    const received = await sink.waitForMessages(undefined, count, 15_000);
    const api2 = client(second.url);
    for (const id of ids) {
      await until(async () => (await api2.queued(id)).status === "done", 5_000, `${id} done`);
    }
    // A little longer: anything delivered twice would show up now.
    await new Promise((resolve) => setTimeout(resolve, 500));
    const all = await sink.messages();
    expect(all).toHaveLength(count);
    expect(all.map((m) => m.rcptTo[0]).sort()).toEqual(ids.map((_, i) => `crash${i}@example.net`).sort());
    for (const m of received) {
      const i = Number(/^crash(\d+)@/.exec(m.rcptTo[0]!)![1]);
      expect(new TextDecoder().decode(bodyBytes(m))).toBe(
        `From: crash@example.com\r\nSubject: crash ${i}\r\n\r\nbody ${i}\r\n`,
      );
    }
    expect(second.output()).toMatch(/not closed cleanly/);
    // The 3 leases set above, and any of a delivery the kill interrupted (its record still in flight).
    const released = /released (\d+) delivery lease\(s\)/.exec(second.output());
    expect(Number(released?.[1])).toBeGreaterThanOrEqual(3);

    // A graceful stop: exit 0, lock released.
    second.child.kill("SIGTERM");
    const [code] = await once(second.child, "exit");
    expect(code).toBe(0);
    expect(existsSync(path.join(dataDir, "postern.lock"))).toBe(false);
  }, 40_000);
});

describe("main.cf for main.ts", () => {
  it("reads POSTERN_CONFIG in main.cf syntax, under the environment and postconf -e", async () => {
    const dataDir = path.join(scratch, "config");
    const file = path.join(scratch, "main.cf");
    writeFileSync(
      file,
      [
        "# test configuration",
        "mydomain = example.org",
        "myhostname = mx.$mydomain",
        "smtpd_recipient_limit = 5",
        "message_size_limit =",
        "    20000000",
        "no_such_parameter = x",
      ].join("\n"),
    );
    const main = await startMain(dataDir, { POSTERN_CONFIG: file, smtpd_recipient_limit: "7" });
    try {
      const res = await fetch(`${main.url}/v1/admin/settings`, {
        headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
      });
      const { parameters } = (await res.json()) as {
        parameters: Record<string, { value: string; expanded: string }>;
      };
      expect(parameters.myhostname!.expanded).toBe("mx.example.org");
      expect(parameters.message_size_limit!.value).toBe("20000000");
      expect(parameters.smtpd_recipient_limit!.value).toBe("7"); // the environment wins over the file
      expect(main.output()).toContain("unused parameter: no_such_parameter=x");
      const admin = { authorization: `Bearer ${ADMIN_TOKEN}`, "content-type": "application/json" };
      await fetch(`${main.url}/v1/admin/settings/smtpd_recipient_limit`, {
        method: "PUT",
        headers: admin,
        body: JSON.stringify({ value: "9" }),
      });
      const after = (await (await fetch(`${main.url}/v1/admin/settings`, { headers: admin })).json()) as {
        parameters: Record<string, { value: string }>;
      };
      expect(after.parameters.smtpd_recipient_limit!.value).toBe("9"); // postconf -e wins over both
    } finally {
      main.child.kill("SIGTERM");
      await once(main.child, "exit");
    }
  }, 30_000);
});

describe("first start of main.ts without secrets", () => {
  it("makes an admin token and a secret key once, prints the token once, and reuses them", async () => {
    const dataDir = path.join(scratch, "fresh");
    const first = await startMain(dataDir, { POSTERN_ADMIN_TOKEN: "", POSTERN_SECRET_KEY: "" });
    let token: string;
    try {
      token = /admin token \(shown once\): (\S+)/.exec(first.output())![1]!;
      const res = await fetch(`${first.url}/v1/admin/accounts`, {
        headers: { authorization: `Bearer ${token}` },
      });
      expect(res.status).toBe(200);
      // `npm run admin` finds that token in the data folder, past a stale .dev.vars of wrangler dev.
      const cwd = mkdtempSync(path.join(scratch, "cli-"));
      writeFileSync(path.join(cwd, ".dev.vars"), "POSTERN_ADMIN_TOKEN=stale-token-of-wrangler-dev\n");
      const cli = spawnSync(process.execPath, [ADMIN_CLI, "postconf", "myhostname"], {
        cwd,
        env: { ...process.env, POSTERN_URL: first.url, POSTERN_DATA_DIR: dataDir, POSTERN_ADMIN_TOKEN: "" },
        encoding: "utf8",
      });
      expect(cli.stderr).toBe("");
      expect(cli.status).toBe(0);
      expect(cli.stdout).toContain("myhostname");
    } finally {
      first.child.kill("SIGTERM");
      await once(first.child, "exit");
    }
    const second = await startMain(dataDir, { POSTERN_ADMIN_TOKEN: "", POSTERN_SECRET_KEY: "" });
    try {
      expect(second.output()).not.toContain("shown once");
      const res = await fetch(`${second.url}/v1/admin/accounts`, {
        headers: { authorization: `Bearer ${token}` },
      });
      expect(res.status).toBe(200);
    } finally {
      second.child.kill("SIGTERM");
      await once(second.child, "exit");
    }
  }, 30_000);
});
