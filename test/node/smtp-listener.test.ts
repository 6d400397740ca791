// The SMTP submission listener of the Node runtime, in-process, against real clients: Python's
// smtplib and swaks (Debian package swaks) with STARTTLS and implicit TLS, relaying to the test
// smarthost. Plus what a raw client sees: 538 before TLS, 553 for a sender not owned, a 250 that
// is already durable, the connection cap and the idle timeout.
import { execFile, spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import tls from "node:tls";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningNodeServer, startNodeServer } from "../../src/node/node-server.ts";
import { startSmtpListener } from "../../src/node/smtp-listener.ts";
import { bodyBytes, type Smarthost, smarthost } from "../smarthost/client.ts";
import { type RunningSmarthost, startSmarthost } from "../smarthost/spawn.ts";

const run = promisify(execFile);
const ADMIN_TOKEN = "smtp-admin-token-0123456789";
const SECRET_KEY = `k1:${Buffer.alloc(32, 7).toString("base64")}`;
const HOST = "mx.postern.test";
const scratch = mkdtempSync(path.join(tmpdir(), "postern-smtp-"));
const dataDir = path.join(scratch, "data");

let smarthostProcess: RunningSmarthost;
let sink: Smarthost;
let server: RunningNodeServer;
let smtpPort: number;
let smtpsPort: number;

const ALICE = { login: "alice@example.com", password: `pw-${crypto.randomUUID()}` };
const BOB = { login: "bob@example.com", password: `pw-${crypto.randomUUID()}` };

async function admin(method: string, route: string, body?: unknown): Promise<unknown> {
  const res = await fetch(`${server.url}/v1/admin${route}`, {
    method,
    headers: { authorization: `Bearer ${ADMIN_TOKEN}`, "content-type": "application/json" },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  if (!res.ok) throw new Error(`${method} ${route}: ${res.status} ${await res.text()}`);
  return res.status === 204 ? null : res.json();
}

const basic = (user: { login: string; password: string }) =>
  `Basic ${Buffer.from(`${user.login}:${user.password}`).toString("base64")}`;
const plain = (user: { login: string; password: string }) =>
  Buffer.from(`\0${user.login}\0${user.password}`).toString("base64");

beforeAll(async () => {
  smarthostProcess = await startSmarthost();
  sink = smarthost(smarthostProcess.json);
  await sink.up();
  server = await startNodeServer({
    dataDir,
    port: 0,
    adminToken: ADMIN_TOKEN,
    secretKey: SECRET_KEY,
    settingsOverrides: {
      myhostname: HOST,
      relayhost: `[127.0.0.1]:${sink.ports.open}`,
      smtp_tls_security_level: "none",
      minimal_backoff_time: "1s",
      maximal_backoff_time: "1s",
      smtp_connect_timeout: "2s",
    },
    smtp: {
      port: 0,
      tlsPort: 0,
      parameters: {
        smtpd_sasl_auth_enable: "yes",
        smtpd_tls_security_level: "may",
        smtpd_tls_auth_only: "yes",
        smtpd_sasl_authenticated_header: "yes",
      },
    },
  });
  smtpPort = server.smtp!.port!;
  smtpsPort = server.smtp!.tlsPort!;
  for (const user of [ALICE, BOB]) {
    await admin("POST", "/accounts", { login: user.login, password: user.password });
    await admin("PUT", `/maps/sender_login/${encodeURIComponent(user.login)}`, { value: user.login });
  }
}, 30_000);

afterAll(async () => {
  await server?.stop();
  await smarthostProcess?.stop();
  rmSync(scratch, { recursive: true, force: true });
});

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

  /** The next whole reply (all its lines), or "<eof>". */
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

  close(): void {
    this.#socket.destroy();
  }
}

/** gsasl's whole output; stdin is closed so it sends no application data. */
function gsasl(args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn("gsasl", args, { stdio: ["ignore", "pipe", "pipe"], timeout: 10_000 });
    let output = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => (output += chunk));
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => (output += chunk));
    child.once("error", reject);
    child.once("close", () => resolve(output));
  });
}

async function getMessage(id: string, user: { login: string; password: string }) {
  const res = await fetch(`${server.url}/v1/messages/${id}`, { headers: { authorization: basic(user) } });
  return {
    status: res.status,
    body: res.status === 200 ? ((await res.json()) as { id: string; from: string }) : null,
  };
}

const PYTHON_SEND = `
import json, smtplib, ssl, sys
host, port, login, password, sender, rcpt = sys.argv[1:7]
context = ssl.create_default_context()
context.check_hostname = False
context.verify_mode = ssl.CERT_NONE  # the self-signed certificate of a local test
smtp = smtplib.SMTP(host, int(port), timeout=10)
smtp.ehlo("python.example")
smtp.starttls(context=context)
smtp.ehlo("python.example")
smtp.login(login, password)
message = f"From: {sender}\\r\\nTo: {rcpt}\\r\\nSubject: via smtplib\\r\\nMessage-ID: <smtplib@python.example>\\r\\n\\r\\nhello from smtplib\\r\\n"
refused = smtp.sendmail(sender, [rcpt], message)
smtp.quit()
print(json.dumps({"refused": refused}))
`;

describe("the SMTP listener with real clients", () => {
  it("Python smtplib: STARTTLS, AUTH, a message that reaches the smarthost with the Authenticated sender", async () => {
    const rcpt = "py-rcpt@example.net";
    const { stdout } = await run("python3", [
      "-c",
      PYTHON_SEND,
      "127.0.0.1",
      String(smtpPort),
      ALICE.login,
      ALICE.password,
      ALICE.login,
      rcpt,
    ]);
    expect(JSON.parse(stdout)).toEqual({ refused: {} });
    const [got] = await sink.waitForMessages(rcpt, 1, 10_000);
    expect(got).toMatchObject({ mailFrom: ALICE.login, rcptTo: [rcpt] });
    const text = new TextDecoder().decode(bodyBytes(got!));
    expect(text).toMatch(
      new RegExp(
        `^Received: from python\\.example \\(unknown \\[127\\.0\\.0\\.1\\]\\)\\r\\n\\t\\(Authenticated sender: ${ALICE.login}\\)\\r\\n\\tby ${HOST.replace(/\./g, "\\.")} \\(Postern\\) with ESMTPSA id `,
      ),
    );
    expect(text).toMatch(/\r\n\r\nhello from smtplib\r\n$/);
  });

  const swaks = async (args: string[]) => {
    try {
      await run("swaks", ["--version"]);
    } catch {
      throw new Error("swaks is not installed: apt-get install swaks");
    }
    const { stdout } = await run("swaks", [
      "--server",
      "127.0.0.1",
      "--helo",
      "swaks.example",
      "--from",
      ALICE.login,
      "--auth-user",
      ALICE.login,
      "--auth-password",
      ALICE.password,
      "--timeout",
      "10",
      ...args,
    ]);
    const id = /<~ {1,2}250 2\.0\.0 Ok: queued as (\S+)/.exec(stdout)?.[1];
    if (!id) throw new Error(`swaks: no queue id in\n${stdout}`);
    return { id, stdout };
  };

  it("swaks --tls --auth PLAIN: exit 0, and the queue id is the owner's message over HTTP", async () => {
    const { id } = await swaks([
      "--port",
      String(smtpPort),
      "--tls",
      "--auth",
      "PLAIN",
      "--to",
      "swaks-plain@example.net",
    ]);
    const mine = await getMessage(id, ALICE);
    expect(mine.status).toBe(200);
    expect(mine.body).toMatchObject({ id, from: ALICE.login });
    // Someone else's message is not there for them.
    expect((await getMessage(id, BOB)).status).toBe(404);
    await sink.waitForMessages("swaks-plain@example.net", 1, 10_000);
  });

  it("swaks --tls-on-connect --auth LOGIN on the implicit TLS port", async () => {
    const { id, stdout } = await swaks([
      "--port",
      String(smtpsPort),
      "--tls-on-connect",
      "--auth",
      "LOGIN",
      "--to",
      "swaks-login@example.net",
    ]);
    expect(stdout).not.toMatch(/STARTTLS/); // never offered inside implicit TLS
    expect((await getMessage(id, ALICE)).status).toBe(200);
    const [got] = await sink.waitForMessages("swaks-login@example.net", 1, 10_000);
    expect(new TextDecoder().decode(bodyBytes(got!))).toMatch(/with ESMTPSA id /);
  });
});

describe("the SMTP listener's replies", () => {
  it("AUTH before STARTTLS with smtpd_tls_auth_only = yes: 538; after it, SCRAM-SHA-256-PLUS is offered", async () => {
    const client = await RawClient.connect(smtpPort);
    expect(await client.reply()).toMatch(new RegExp(`^220 ${HOST} ESMTP`));
    const ehlo = await client.send("EHLO raw.example");
    expect(ehlo).toMatch(/STARTTLS/);
    expect(ehlo).not.toMatch(/AUTH/);
    expect(await client.send(`AUTH PLAIN ${plain(ALICE)}`)).toMatch(/^538 5\.7\.11 /);
    await client.starttls();
    const secureEhlo = await client.send("EHLO raw.example");
    expect(secureEhlo).toMatch(/^250-AUTH .*SCRAM-SHA-256-PLUS/m);
    expect(secureEhlo).not.toMatch(/STARTTLS/);
    expect(await client.send("QUIT")).toMatch(/^221 /);
    client.close();
  });

  it("on its defaults the submission port requires STARTTLS (530) and then offers AUTH", async () => {
    const listener = await startSmtpListener(server.node.services, dataDir, { port: 0, tlsPort: null });
    try {
      const client = await RawClient.connect(listener.port!);
      await client.reply();
      const ehlo = await client.send("EHLO raw.example");
      expect(ehlo).toMatch(/STARTTLS/);
      expect(ehlo).not.toMatch(/AUTH/);
      expect(await client.send(`MAIL FROM:<${ALICE.login}>`)).toMatch(
        /^530 5\.7\.0 Must issue a STARTTLS command first/,
      );
      await client.starttls();
      expect(await client.send("EHLO raw.example")).toMatch(/^250-AUTH .*PLAIN/m);
      expect(await client.send(`AUTH PLAIN ${plain(ALICE)}`)).toMatch(/^235 /);
      client.close();
    } finally {
      await listener.stop(0);
    }
  });

  it("SCRAM-SHA-256-PLUS with tls-exporter channel binding: GNU SASL (gsasl) over STARTTLS", async () => {
    try {
      await run("gsasl", ["--version"]);
    } catch {
      throw new Error("gsasl is not installed: apt-get install gsasl");
    }
    // gsasl --smtp sends STARTTLS and AUTH without EHLO: a listener that lets it.
    const listener = await startSmtpListener(server.node.services, dataDir, {
      port: 0,
      tlsPort: null,
      parameters: { smtpd_sasl_auth_enable: "yes", smtpd_helo_required: "no" },
    });
    try {
      // biome-ignore format: option/value pairs read better side by side
      const output = await gsasl([
        "--client", "--smtp", `--connect=127.0.0.1:${listener.port}`, "--starttls",
        `--x509-ca-file=${listener.certificate.certFile}`, "--mechanism=SCRAM-SHA-256-PLUS",
        `--authentication-id=${ALICE.login}`, `--password=${ALICE.password}`,
      ]);
      expect(output).toMatch(/^235 2\.7\.0 Authentication successful$/m);
      // gsasl checked the server's proof too, which covers the channel binding.
      expect(output).toMatch(/Client authentication finished \(server trusted\)/);
    } finally {
      await listener.stop(0);
    }
  });

  it("a sender the login does not own: 553 5.7.1", async () => {
    const client = await RawClient.connect(smtpsPort, true);
    await client.reply();
    await client.send("EHLO raw.example");
    expect(await client.send(`AUTH PLAIN ${plain(ALICE)}`)).toMatch(/^235 /);
    expect(await client.send(`MAIL FROM:<${BOB.login}>`)).toMatch(/^250 /);
    expect(await client.send("RCPT TO:<x@example.net>")).toMatch(/^553 5\.7\.1 .*not owned by user/);
    client.close();
  });

  it("a 250 means stored: the row and the body exist when the client reads it", async () => {
    await sink.down(); // nothing delivers (and removes) it in the meantime
    try {
      const client = await RawClient.connect(smtpsPort, true);
      await client.reply();
      await client.send("EHLO raw.example");
      await client.send(`AUTH PLAIN ${plain(ALICE)}`);
      await client.send(`MAIL FROM:<${ALICE.login}>`);
      expect(await client.send("RCPT TO:<durable@example.net>")).toMatch(/^250 /);
      expect(await client.send("DATA")).toMatch(/^354 /);
      const queued = await client.send("Subject: durable\r\n\r\nbody\r\n.");
      const id = /^250 2\.0\.0 Ok: queued as (\S+)\r\n$/.exec(queued)?.[1];
      expect(id).toBeDefined();
      const view = await server.node.services.messages.view(id!);
      expect(view?.message).toMatchObject({ mailFrom: ALICE.login, saslUsername: ALICE.login });
      expect(view?.message.accountId).not.toBeNull();
      expect(existsSync(path.join(dataDir, "bodies", "bodies", id!))).toBe(true);
      client.close();
    } finally {
      await sink.up();
    }
  });

  it("beyond the connection cap: 421 4.7.0 too many connections; an idle client: 421 4.4.2", async () => {
    const listener = await startSmtpListener(server.node.services, dataDir, {
      port: 0,
      tlsPort: null,
      maxConnections: 1,
      parameters: { smtpd_timeout: "1s" },
    });
    try {
      const first = await RawClient.connect(listener.port!);
      expect(await first.reply()).toMatch(/^220 /);
      const second = await RawClient.connect(listener.port!);
      expect(await second.reply()).toBe(`421 4.7.0 ${HOST} Error: too many connections\r\n`);
      expect(await second.reply()).toBe("<eof>");
      expect(await first.reply()).toBe(`421 4.4.2 ${HOST} Error: timeout exceeded\r\n`);
      expect(await first.reply()).toBe("<eof>");
    } finally {
      await listener.stop();
    }
  });

  it("a graceful stop says 421 to an idle session", async () => {
    const listener = await startSmtpListener(server.node.services, dataDir, { port: 0, tlsPort: null });
    const client = await RawClient.connect(listener.port!);
    expect(await client.reply()).toMatch(/^220 /);
    await listener.stop();
    expect(await client.reply()).toBe(`421 4.3.2 ${HOST} Service shutting down\r\n`);
  });
});
