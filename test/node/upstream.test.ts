// The SMTP adapter in upstream mode against a real gateway: the Node runtime's own HTTP server
// (the same Hono app as Workers) on a loopback port, and behind a TLS proxy with a private test CA
// for the HTTPS case. Real clients drive the adapter: swaks, Python's smtplib, GNU SASL's gsasl
// (SCRAM-SHA-256 through the gateway's continuation flow), and a raw line client for the replies.
// What must hold: the message lands in the gateway's store owned by the SMTP login, 250 carries the
// gateway's id, a wrong password is 535, RCPT-time refusals come from the gateway's policy in
// Postfix's words, and a gateway that is down or silent gives 4xx with nothing lost or doubled.
import { execFile, spawn } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import tls from "node:tls";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { findMechanism } from "../../src/core/sasl/mechanisms.ts";
import { bodyKeyFor } from "../../src/core/submission/accept.ts";
import { type RunningNodeServer, startNodeServer } from "../../src/node/node-server.ts";
import {
  type RunningUpstreamAdapter,
  startUpstreamAdapter,
} from "../../src/node/upstream/upstream-adapter.ts";
import { makeTestCertificates, type TestCertificates } from "../smarthost/certificates.ts";

const run = promisify(execFile);
const ADMIN_TOKEN = "upstream-admin-token-0123456789";
const SECRET_KEY = `k1:${Buffer.alloc(32, 9).toString("base64")}`;
const scratch = mkdtempSync(path.join(tmpdir(), "postern-upstream-"));
const gatewayDir = path.join(scratch, "gateway");
const adapterDir = path.join(scratch, "adapter");

const ALICE = { login: "alice@example.com", password: `pw-${crypto.randomUUID()}` };
const BOB = { login: "bob@example.com", password: `pw-${crypto.randomUUID()}` };
const SLOW = { login: "slow@example.com", password: `pw-${crypto.randomUUID()}` };

/** The listener's own parameters (the adapter's main.cf). */
const ADAPTER_PARAMETERS = {
  myhostname: "adapter.postern.test",
  smtpd_sasl_auth_enable: "yes",
  smtpd_tls_auth_only: "yes",
  smtpd_sasl_authenticated_header: "yes",
  // gsasl --smtp sends AUTH without EHLO.
  smtpd_helo_required: "no",
};

let gateway: RunningNodeServer;
let gatewayPort: number;
let adapter: RunningUpstreamAdapter;
let certificates: TestCertificates;

function startGateway(port = 0): Promise<RunningNodeServer> {
  return startNodeServer({
    dataDir: gatewayDir,
    port,
    adminToken: ADMIN_TOKEN,
    secretKey: SECRET_KEY,
    // No relayhost: accepted mail stays queued, so the store can be inspected.
    settingsOverrides: { myhostname: "gateway.postern.test" },
  });
}

async function admin(method: string, route: string, body?: unknown): Promise<unknown> {
  const res = await fetch(`${gateway.url}/v1/admin${route}`, {
    method,
    headers: { authorization: `Bearer ${ADMIN_TOKEN}`, "content-type": "application/json" },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  if (!res.ok) throw new Error(`${method} ${route}: ${res.status} ${await res.text()}`);
  return res.status === 204 ? null : res.json();
}

function startAdapter(url: string, extra: Record<string, string> = {}): Promise<RunningUpstreamAdapter> {
  return startUpstreamAdapter({
    settings: { postern_upstream_url: url, ...extra },
    dataDir: adapterDir,
    smtp: { port: 0, tlsPort: 0, parameters: ADAPTER_PARAMETERS },
  });
}

beforeAll(async () => {
  // A CA of this test's own: the shared test CA is trusted process-wide (NODE_EXTRA_CA_CERTS).
  certificates = makeTestCertificates(path.join(scratch, "ca"));
  gateway = await startGateway();
  gatewayPort = gateway.port;
  for (const user of [ALICE, BOB, SLOW]) {
    await admin("POST", "/accounts", { login: user.login, password: user.password });
    await admin("PUT", `/maps/sender_login/${encodeURIComponent(user.login)}`, { value: user.login });
  }
  await admin("PUT", `/maps/sasl_access/${encodeURIComponent(SLOW.login)}`, { value: "DEFER" });
  adapter = await startAdapter(gateway.url);
}, 30_000);

afterAll(async () => {
  await adapter?.stop(0);
  await gateway?.stop(0);
  rmSync(scratch, { recursive: true, force: true });
});

interface QueueRow {
  id: string;
  from: string;
  sasl_username: string | null;
}

async function queued(): Promise<QueueRow[]> {
  return ((await admin("GET", "/queue?state=queued")) as { messages: QueueRow[] }).messages;
}

async function storedBody(id: string): Promise<string> {
  const stream = await gateway.node.bodies.get(bodyKeyFor(id));
  if (!stream) throw new Error(`no body for ${id}`);
  return new Response(stream).text();
}

const basic = (user: { login: string; password: string }) =>
  `Basic ${Buffer.from(`${user.login}:${user.password}`).toString("base64")}`;
const plain = (user: { login: string; password: string }) =>
  Buffer.from(`\0${user.login}\0${user.password}`).toString("base64");

async function ownerView(id: string, user: { login: string; password: string }) {
  const res = await fetch(`${gateway.url}/v1/messages/${id}`, { headers: { authorization: basic(user) } });
  return {
    status: res.status,
    body: res.status === 200 ? ((await res.json()) as Record<string, unknown>) : null,
  };
}

/** A line-oriented SMTP client over node:net / node:tls that returns whole replies. */
class RawClient {
  #socket: net.Socket;
  #buffer = "";
  #waiters: (() => void)[] = [];
  #closed = false;

  private constructor(socket: net.Socket) {
    this.#socket = socket;
    this.#attach(socket);
  }

  static async connect(port: number, implicitTls = false): Promise<RawClient> {
    const socket = implicitTls
      ? tls.connect({ host: "127.0.0.1", port, rejectUnauthorized: false })
      : net.connect({ host: "127.0.0.1", port });
    await new Promise<void>((resolve, reject) => {
      socket.once(implicitTls ? "secureConnect" : "connect", resolve);
      socket.once("error", reject);
    });
    return new RawClient(socket);
  }

  /** Implicit TLS, greeting read, EHLO sent. */
  static async ready(port: number): Promise<RawClient> {
    const client = await RawClient.connect(port, true);
    expect(await client.reply()).toMatch(/^220 /);
    expect(await client.send("EHLO raw.example")).toMatch(/^250/);
    return client;
  }

  #attach(socket: net.Socket): void {
    socket.setEncoding("utf8");
    socket.on("data", (chunk: string) => {
      this.#buffer += chunk;
      this.#wake();
    });
    socket.on("close", () => {
      this.#closed = true;
      this.#wake();
    });
    socket.on("error", () => {});
  }

  #wake(): void {
    for (const waiter of this.#waiters.splice(0)) waiter();
  }

  async reply(): Promise<string> {
    for (;;) {
      const match = /^(?:\d{3}-[^\r\n]*\r\n)*\d{3}(?: [^\r\n]*)?\r\n/.exec(this.#buffer);
      if (match) {
        this.#buffer = this.#buffer.slice(match[0].length);
        return match[0];
      }
      if (this.#closed) return "<eof>";
      await new Promise<void>((resolve) => this.#waiters.push(resolve));
    }
  }

  async send(line: string): Promise<string> {
    this.#socket.write(`${line}\r\n`);
    return this.reply();
  }

  async starttls(): Promise<void> {
    expect(await this.send("STARTTLS")).toMatch(/^220 /);
    this.#socket.removeAllListeners("data");
    const secure = tls.connect({ socket: this.#socket, rejectUnauthorized: false });
    await new Promise<void>((resolve, reject) => {
      secure.once("secureConnect", resolve);
      secure.once("error", reject);
    });
    this.#socket = secure;
    this.#attach(secure);
  }

  /** MAIL, RCPT, DATA and the content; the reply to the final dot. */
  async message(from: string, to: string, subject: string): Promise<string> {
    expect(await this.send(`MAIL FROM:<${from}>`)).toMatch(/^250 /);
    expect(await this.send(`RCPT TO:<${to}>`)).toMatch(/^250 /);
    expect(await this.send("DATA")).toMatch(/^354 /);
    return this.send(`From: <${from}>\r\nTo: <${to}>\r\nSubject: ${subject}\r\n\r\nbody of ${subject}\r\n.`);
  }

  close(): void {
    this.#socket.destroy();
  }
}

async function swaks(args: string[]): Promise<string> {
  try {
    await run("swaks", ["--version"]);
  } catch {
    throw new Error("swaks is not installed: apt-get install swaks");
  }
  // swaks exits non-zero on a refusal; its transcript is what the tests read.
  const result = await run("swaks", [
    "--server",
    "127.0.0.1",
    "--helo",
    "swaks.example",
    "--timeout",
    "15",
    ...args,
  ]).catch((error: { stdout?: string }) => ({ stdout: error.stdout ?? "" }));
  return result.stdout;
}

const queuedAs = (transcript: string) => /<~ {1,2}250 2\.0\.0 Ok: queued as (\S+)/.exec(transcript)?.[1];

describe("upstream mode: messages land in the gateway's store", () => {
  it("swaks STARTTLS + AUTH PLAIN: 250 with the gateway's id, the owner sees it, nothing kept locally", async () => {
    const transcript = await swaks([
      "--port",
      String(adapter.smtp.port),
      "--tls",
      "--auth",
      "PLAIN",
      "--auth-user",
      ALICE.login,
      "--auth-password",
      ALICE.password,
      "--from",
      ALICE.login,
      "--to",
      "swaks-rcpt@example.net",
      "--header",
      "Subject: via swaks",
    ]);
    const id = queuedAs(transcript);
    expect(id, transcript).toBeDefined();
    const mine = await ownerView(id!, ALICE);
    expect(mine.status).toBe(200);
    expect(mine.body).toMatchObject({ id, from: ALICE.login, status: "queued" });
    expect((mine.body!.recipients as { address: string }[])[0]!.address).toBe("swaks-rcpt@example.net");
    expect((await ownerView(id!, BOB)).status).toBe(404);
    const row = (await queued()).find((message) => message.id === id);
    expect(row?.sasl_username).toBe(ALICE.login);
    // The adapter's Received: header (with the authenticated sender) is part of the stored bytes.
    const body = await storedBody(id!);
    expect(body).toMatch(
      /^Received: from swaks\.example \(unknown \[127\.0\.0\.1\]\)\r\n\t\(Authenticated sender: alice@example\.com\)\r\n\tby adapter\.postern\.test \(Postern\) with ESMTPSA id /,
    );
    expect(body).toMatch(/\r\nSubject: via swaks\r\n/);
    // No database, no bodies, no queue on the adapter: only the self-signed certificate.
    expect(readdirSync(adapterDir)).toEqual(["tls"]);
  });

  it("Python smtplib over implicit TLS (LOGIN or PLAIN, as smtplib picks)", async () => {
    const script = `
import json, smtplib, ssl, sys
port, login, password = sys.argv[1:4]
context = ssl.create_default_context()
context.check_hostname = False
context.verify_mode = ssl.CERT_NONE  # the adapter's self-signed certificate
smtp = smtplib.SMTP_SSL("127.0.0.1", int(port), timeout=15, context=context)
smtp.ehlo("python.example")
smtp.login(login, password)
smtp.mail(login)
smtp.rcpt("py-rcpt@example.net")
code, reply = smtp.data(b"Subject: via smtplib\\r\\n\\r\\nhello\\r\\n")
smtp.quit()
print(json.dumps({"code": code, "reply": reply.decode()}))
`;
    const { stdout } = await run("python3", [
      "-c",
      script,
      String(adapter.smtp.tlsPort),
      BOB.login,
      BOB.password,
    ]);
    const { code, reply } = JSON.parse(stdout) as { code: number; reply: string };
    expect(code).toBe(250);
    const id = /queued as (\S+)/.exec(reply)?.[1];
    expect((await ownerView(id!, BOB)).body).toMatchObject({ from: BOB.login });
  });

  it("SCRAM-SHA-256 step by step through the gateway's continuations, then a message as that login", async () => {
    const client = await RawClient.ready(adapter.smtp.tlsPort!);
    const scram = findMechanism("SCRAM-SHA-256")!.client({ authcid: ALICE.login, password: ALICE.password });
    const first = await scram.start();
    let reply = await client.send(`AUTH SCRAM-SHA-256 ${Buffer.from(first!).toString("base64")}`);
    expect(reply).toMatch(/^334 /);
    const answer = await scram.step(Buffer.from(reply.slice(4).trim(), "base64"));
    if (answer.kind !== "respond") throw new Error(`SCRAM client: ${JSON.stringify(answer)}`);
    reply = await client.send(Buffer.from(answer.response).toString("base64"));
    // The server's signature (v=) as a challenge, answered by an empty line (RFC 4954 §4).
    expect(reply).toMatch(/^334 /);
    const verified = await scram.finish(Buffer.from(reply.slice(4).trim(), "base64"));
    expect(verified).toEqual({ kind: "done", verified: true });
    expect(await client.send("")).toMatch(/^235 2\.7\.0 /);
    const done = await client.message(ALICE.login, "scram-rcpt@example.net", "after SCRAM");
    const id = /^250 2\.0\.0 Ok: queued as (\S+)/.exec(done)?.[1];
    expect(id, done).toBeDefined();
    // The gateway recorded the mechanism the SMTP client used, carried by the session token.
    const row = (await queued()).find((message) => message.id === id);
    expect(row).toMatchObject({ from: ALICE.login, sasl_username: ALICE.login });
    expect(await storedBody(id!)).toMatch(/\r\nSubject: after SCRAM\r\n/);
    client.close();
  });

  it("gsasl --smtp: SCRAM-SHA-256 with the server proven (server trusted)", async () => {
    try {
      await run("gsasl", ["--version"]);
    } catch {
      throw new Error("gsasl is not installed: apt-get install gsasl");
    }
    // --no-cb: with TLS channel binding at hand, gsasl 2.2 refuses SCRAM without -PLUS, which
    // upstream mode cannot offer (the gateway does not see this TLS session).
    // biome-ignore format: option/value pairs read better side by side
    const output = await gsasl([
      "--client", "--smtp", "--no-cb", `--connect=127.0.0.1:${adapter.smtp.port}`, "--starttls",
      `--x509-ca-file=${adapter.smtp.certificate.certFile}`, "--mechanism=SCRAM-SHA-256",
      `--authentication-id=${ALICE.login}`, `--password=${ALICE.password}`,
    ]);
    expect(output).toMatch(/^235 2\.7\.0 Authentication successful$/m);
    expect(output).toMatch(/Client authentication finished \(server trusted\)/);
    // And a wrong password fails the same way through the gateway.
    // biome-ignore format: option/value pairs read better side by side
    const wrong = await gsasl([
      "--client", "--smtp", "--no-cb", `--connect=127.0.0.1:${adapter.smtp.port}`, "--starttls",
      `--x509-ca-file=${adapter.smtp.certificate.certFile}`, "--mechanism=SCRAM-SHA-256",
      `--authentication-id=${ALICE.login}`, "--password=not-the-password",
    ]);
    expect(wrong).toMatch(/^535 5\.7\.8 /m);
  });
});

function gsasl(args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn("gsasl", args, { stdio: ["ignore", "pipe", "pipe"], timeout: 15_000 });
    let output = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => (output += chunk));
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => (output += chunk));
    child.once("error", reject);
    child.once("close", () => resolve(output));
  });
}

describe("upstream mode: authentication and policy answers", () => {
  it("EHLO offers the gateway's mechanisms only inside TLS, never -PLUS or EXTERNAL", async () => {
    const client = await RawClient.connect(adapter.smtp.port!);
    await client.reply();
    expect(await client.send("EHLO raw.example")).not.toMatch(/AUTH/);
    // smtpd_tls_security_level = encrypt (the default): nothing but STARTTLS before TLS.
    expect(await client.send(`AUTH PLAIN ${plain(ALICE)}`)).toMatch(/^530 5\.7\.0 Must issue a STARTTLS/);
    await client.starttls();
    const ehlo = await client.send("EHLO raw.example");
    const offered = /^250-AUTH (.*)$/m.exec(ehlo)?.[1]?.split(" ") ?? [];
    const gatewaySays = (
      (await (await fetch(`${gateway.url}/v1/auth/sasl`)).json()) as { mechanisms: string[] }
    ).mechanisms;
    expect(offered).toContain("SCRAM-SHA-256");
    expect(offered).toContain("PLAIN");
    expect(offered.every((name) => gatewaySays.includes(name))).toBe(true);
    expect(offered.some((name) => name.endsWith("-PLUS") || name === "EXTERNAL")).toBe(false);
    // No account keeps a shared secret: CRAM-MD5 and DIGEST-MD5 would only trap clients.
    expect(offered).not.toContain("CRAM-MD5");
    expect(offered).not.toContain("DIGEST-MD5");
    client.close();
  });

  it("a wrong password: 535 5.7.8 (swaks), and nothing is stored", async () => {
    const before = (await queued()).length;
    const transcript = await swaks([
      "--port",
      String(adapter.smtp.port),
      "--tls",
      "--auth",
      "LOGIN",
      "--auth-user",
      ALICE.login,
      "--auth-password",
      "wrong password",
      "--from",
      ALICE.login,
      "--to",
      "never@example.net",
    ]);
    expect(transcript).toMatch(/<~\* 535 5\.7\.8 Error: authentication failed/);
    expect((await queued()).length).toBe(before);
  });

  it("RCPT-time refusals come from the gateway's restriction lists, in Postfix's words", async () => {
    const client = await RawClient.ready(adapter.smtp.tlsPort!);
    // Without AUTH: relay access denied.
    expect(await client.send("MAIL FROM:<stranger@example.org>")).toMatch(/^250 /);
    expect(await client.send("RCPT TO:<victim@example.net>")).toBe(
      "554 5.7.1 <victim@example.net>: Relay access denied\r\n",
    );
    expect(await client.send("RSET")).toMatch(/^250 /);
    expect(await client.send(`AUTH PLAIN ${plain(ALICE)}`)).toMatch(/^235 /);
    // A sender the login does not own.
    expect(await client.send(`MAIL FROM:<${BOB.login}>`)).toMatch(/^250 /);
    expect(await client.send("RCPT TO:<x@example.net>")).toBe(
      `553 5.7.1 <${BOB.login}>: Sender address rejected: not owned by user ${ALICE.login}\r\n`,
    );
    expect(await client.send("RSET")).toMatch(/^250 /);
    // Its own sender: accepted, per recipient.
    expect(await client.message(ALICE.login, "ok@example.net", "owned")).toMatch(
      /^250 2\.0\.0 Ok: queued as /,
    );
    client.close();
  });

  it("check_sasl_access DEFER on the gateway: 450 4.7.1 at RCPT", async () => {
    const client = await RawClient.ready(adapter.smtp.tlsPort!);
    expect(await client.send(`AUTH PLAIN ${plain(SLOW)}`)).toMatch(/^235 /);
    expect(await client.send(`MAIL FROM:<${SLOW.login}>`)).toMatch(/^250 /);
    expect(await client.send("RCPT TO:<x@example.net>")).toMatch(/^450 4\.7\.1 /);
    client.close();
  });
});

describe("upstream mode: the gateway unreachable", () => {
  it("down mid-session: 451 4.3.0 at RCPT and at the end of DATA, 454 for AUTH; after it is back the same mail goes through once", async () => {
    const sender = ALICE.login;
    const rcpt = "outage@example.net";
    const before = (await queued()).length;
    const client = await RawClient.ready(adapter.smtp.tlsPort!);
    expect(await client.send(`AUTH PLAIN ${plain(ALICE)}`)).toMatch(/^235 /);
    expect(await client.send(`MAIL FROM:<${sender}>`)).toMatch(/^250 /);
    expect(await client.send(`RCPT TO:<${rcpt}>`)).toMatch(/^250 /);
    expect(await client.send("DATA")).toMatch(/^354 /);

    await gateway.stop(0);
    try {
      expect(await client.send("Subject: outage\r\n\r\nduring the outage\r\n.")).toBe(
        "451 4.3.0 Error: queue file write error\r\n",
      );
      expect(await client.send(`MAIL FROM:<${sender}>`)).toMatch(/^250 /);
      expect(await client.send("RCPT TO:<second@example.net>")).toBe(
        "451 4.3.0 <second@example.net>: Temporary lookup failure\r\n",
      );
      client.close();
      const fresh = await RawClient.ready(adapter.smtp.tlsPort!);
      expect(await fresh.send(`AUTH PLAIN ${plain(ALICE)}`)).toMatch(/^454 4\.7\.0 /);
      fresh.close();
    } finally {
      gateway = await startGateway(gatewayPort);
    }
    // Nothing of the refused attempt reached the store; the client's retry lands exactly once.
    expect((await queued()).length).toBe(before);
    const retry = await RawClient.ready(adapter.smtp.tlsPort!);
    expect(await retry.send(`AUTH PLAIN ${plain(ALICE)}`)).toMatch(/^235 /);
    const done = await retry.message(sender, rcpt, "outage");
    const id = /^250 2\.0\.0 Ok: queued as (\S+)/.exec(done)?.[1];
    expect(id, done).toBeDefined();
    retry.close();
    const after = await queued();
    expect(after.length).toBe(before + 1);
    expect(await storedBody(id!)).toMatch(/\r\nSubject: outage\r\n\r\nbody of outage\r\n$/);
  });

  it("a gateway that accepts connections but never answers: 4xx after postern_upstream_timeout, never 250", async () => {
    const silent = net.createServer(() => {}); // holds every connection open, says nothing
    await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
    const port = (silent.address() as net.AddressInfo).port;
    const slowAdapter = await startAdapter(`http://127.0.0.1:${port}`, { postern_upstream_timeout: "1s" });
    try {
      const client = await RawClient.ready(slowAdapter.smtp.tlsPort!);
      // The mechanism list falls back to the implemented ones, so AUTH is tried and is temporary.
      expect(await client.send(`AUTH PLAIN ${plain(ALICE)}`)).toMatch(/^454 4\.7\.0 /);
      expect(await client.send(`MAIL FROM:<${ALICE.login}>`)).toMatch(/^250 /);
      expect(await client.send("RCPT TO:<x@example.net>")).toMatch(/^451 4\.3\.0 /);
      client.close();
    } finally {
      await slowAdapter.stop(0);
      silent.close();
    }
  });
});

describe("upstream mode over HTTPS (a TLS proxy with a private CA in front of the gateway)", () => {
  let proxy: tls.Server;
  let proxyPort: number;

  beforeAll(async () => {
    proxy = tls.createServer(
      { key: readFileSync(certificates.keyFile), cert: readFileSync(certificates.certFile) },
      (socket) => {
        const upstream = net.connect({ host: "127.0.0.1", port: gatewayPort });
        socket.pipe(upstream).pipe(socket);
        socket.on("error", () => upstream.destroy());
        upstream.on("error", () => socket.destroy());
      },
    );
    await new Promise<void>((resolve) => proxy.listen(0, "127.0.0.1", resolve));
    proxyPort = (proxy.address() as net.AddressInfo).port;
  });

  afterAll(() => {
    proxy?.close();
  });

  it("with postern_upstream_tls_CAfile: authenticated and accepted; without it the certificate is refused (4xx)", async () => {
    expect(existsSync(certificates.caFile)).toBe(true);
    const url = `https://localhost:${proxyPort}`;
    const trusting = await startAdapter(url, { postern_upstream_tls_CAfile: certificates.caFile });
    const strict = await startAdapter(url);
    try {
      const client = await RawClient.ready(trusting.smtp.tlsPort!);
      expect(await client.send(`AUTH PLAIN ${plain(BOB)}`)).toMatch(/^235 /);
      const done = await client.message(BOB.login, "https-rcpt@example.net", "over https");
      const id = /^250 2\.0\.0 Ok: queued as (\S+)/.exec(done)?.[1];
      expect(id, done).toBeDefined();
      expect((await ownerView(id!, BOB)).status).toBe(200);
      client.close();

      const refused = await RawClient.ready(strict.smtp.tlsPort!);
      expect(await refused.send(`AUTH PLAIN ${plain(BOB)}`)).toMatch(/^454 4\.7\.0 /);
      refused.close();
    } finally {
      await trusting.stop(0);
      await strict.stop(0);
    }
  });

  it("refuses to start with plain http:// to a host that is not loopback", async () => {
    await expect(startAdapter("http://gateway.example:8787")).rejects.toThrow(/loopback/);
  });
});

describe("main.ts in upstream mode", () => {
  it("postern_upstream_url in main.cf: only the SMTP listeners, no database, no secrets; mail lands on the gateway", async () => {
    const dataDir = path.join(scratch, "main-data");
    const config = path.join(scratch, "main.cf");
    writeFileSync(
      config,
      `postern_upstream_url = ${gateway.url}\nmyhostname = main.adapter.test\nsmtpd_sasl_auth_enable = yes\n`,
    );
    const { POSTERN_ADMIN_TOKEN: _a, POSTERN_SECRET_KEY: _s, ...env } = process.env;
    const child = spawn(process.execPath, [path.resolve("src/node/main.ts")], {
      env: {
        ...env,
        POSTERN_CONFIG: config,
        POSTERN_DATA_DIR: dataDir,
        POSTERN_SMTP_PORT: "0",
        POSTERN_SMTPS_PORT: "off",
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => (output += chunk));
    try {
      const port = await new Promise<number>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`main.ts did not start:\n${output}`)), 15_000);
        child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
          output += chunk;
          const match = /smtpd listening on 127\.0\.0\.1:(\d+) \(STARTTLS\)/.exec(output);
          // The last line of the start-up says which gateway it uses.
          if (match && output.includes("upstream mode:")) {
            clearTimeout(timer);
            resolve(Number(match[1]));
          }
        });
        child.once("exit", (code) => reject(new Error(`main.ts exited with ${code}:\n${output}`)));
      });
      expect(output).toContain(`upstream mode: authentication, policy and messages go to ${gateway.url}`);
      const transcript = await swaks([
        "--port",
        String(port),
        "--tls",
        "--auth",
        "PLAIN",
        "--auth-user",
        BOB.login,
        "--auth-password",
        BOB.password,
        "--from",
        BOB.login,
        "--to",
        "main-rcpt@example.net",
      ]);
      const id = queuedAs(transcript);
      expect(id, transcript).toBeDefined();
      expect((await ownerView(id!, BOB)).body).toMatchObject({ id, from: BOB.login });
      // No admin token printed, no secrets.env, no postern.db: only the self-signed certificate.
      expect(readdirSync(dataDir)).toEqual(["tls"]);
      expect(output).not.toMatch(/admin token/i);
    } finally {
      const exited = new Promise((resolve) => child.once("exit", resolve));
      child.kill("SIGTERM");
      await exited;
    }
  });
});
