// The SMTP listener streams message content to the disk body store as it arrives: a large message
// is on disk (in the store's temporary folder) before its final dot, lands byte-exact with its
// Received: header and dot-unstuffed, and a message that fails any way (size limit, bare LF, the
// client going away) leaves no file and no row behind. Real listener, real SQLite, real files.
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningNodeServer, startNodeServer } from "../../src/node/node-server.ts";

const ADMIN_TOKEN = "stream-admin-token-0123456789";
const SECRET_KEY = `k1:${Buffer.alloc(32, 9).toString("base64")}`;
const USER = { login: "streamer@example.com", password: `pw-${crypto.randomUUID()}` };
const LIMIT = 4 * 1024 * 1024;
const scratch = mkdtempSync(path.join(tmpdir(), "postern-stream-"));
const dataDir = path.join(scratch, "data");
const temporaryDir = path.join(dataDir, "bodies", ".tmp");

let server: RunningNodeServer;
let port: number;

beforeAll(async () => {
  server = await startNodeServer({
    dataDir,
    port: 0,
    adminToken: ADMIN_TOKEN,
    secretKey: SECRET_KEY,
    settingsOverrides: {
      myhostname: "mx.stream.test",
      relayhost: "[127.0.0.1]:9", // nothing listens: deliveries defer, bodies stay
      smtp_connect_timeout: "1s",
      // PLAIN without TLS, on loopback, for the test
      smtpd_tls_auth_only: "no",
      smtpd_sasl_security_options: "noanonymous",
    },
    smtp: {
      port: 0,
      tlsPort: null,
      parameters: {
        smtpd_sasl_auth_enable: "yes",
        smtpd_tls_security_level: "may",
        message_size_limit: String(LIMIT),
      },
    },
  });
  port = server.smtp!.port!;
  const headers = { authorization: `Bearer ${ADMIN_TOKEN}`, "content-type": "application/json" };
  const created = await fetch(`${server.url}/v1/admin/accounts`, {
    method: "POST",
    headers,
    body: JSON.stringify(USER),
  });
  expect(created.status).toBe(201);
  const mapped = await fetch(`${server.url}/v1/admin/maps/sender_login/${encodeURIComponent(USER.login)}`, {
    method: "PUT",
    headers,
    body: JSON.stringify({ value: USER.login }),
  });
  expect(mapped.ok).toBe(true);
}, 30_000);

afterAll(async () => {
  await server?.stop();
  rmSync(scratch, { recursive: true, force: true });
});

class Client {
  #socket: net.Socket;
  #buffer = "";
  #waiters: (() => void)[] = [];
  #closed = false;

  private constructor(socket: net.Socket) {
    this.#socket = socket;
    socket.setEncoding("latin1");
    socket.on("data", (text: string) => {
      this.#buffer += text;
      this.#wake();
    });
    socket.on("close", () => {
      this.#closed = true;
      this.#wake();
    });
    socket.on("error", () => {});
  }

  static async ready(): Promise<Client> {
    const socket = net.connect({ host: "127.0.0.1", port });
    await new Promise((resolve, reject) => socket.once("connect", resolve).once("error", reject));
    const client = new Client(socket);
    expect(await client.reply()).toMatch(/^220 /);
    expect(await client.send("EHLO stream.example")).toMatch(/^250-/);
    const plain = Buffer.from(`\0${USER.login}\0${USER.password}`).toString("base64");
    expect(await client.send(`AUTH PLAIN ${plain}`)).toMatch(/^235 /);
    expect(await client.send(`MAIL FROM:<${USER.login}>`)).toMatch(/^250 /);
    expect(await client.send("RCPT TO:<far@example.net>")).toMatch(/^250 /);
    return client;
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

  /** Writes with backpressure. */
  write(bytes: string | Uint8Array): Promise<void> {
    return new Promise((resolve) => {
      if (this.#socket.write(bytes)) resolve();
      else this.#socket.once("drain", () => resolve());
    });
  }

  async send(line: string): Promise<string> {
    await this.write(`${line}\r\n`);
    return this.reply();
  }

  close(): void {
    this.#socket.destroy();
  }
}

/** Lines of 78 characters; every 10th starts with a dot, which the client stuffs. */
function content(bytes: number): { wire: string; stored: string } {
  let stored = "Subject: big\r\nMessage-ID: <stream-test@example.com>\r\n\r\n";
  let i = 0;
  while (stored.length < bytes) {
    const text = `${i % 10 === 0 ? "." : ""}line ${i} `.padEnd(78, "z");
    stored += `${text}\r\n`;
    i++;
  }
  const wire = stored.replace(/^\./gm, "..");
  return { wire, stored };
}

const temporaryFiles = () => readdirSync(temporaryDir);
const messageCount = async () =>
  Number((await server.node.database.client.execute("select count(*) as n from messages")).rows[0]!.n);

async function until(what: string, condition: () => boolean, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`still waiting for: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

function pieces(text: string, size = 64 * 1024): string[] {
  const out: string[] = [];
  for (let i = 0; i < text.length; i += size) out.push(text.slice(i, i + size));
  return out;
}

describe("SMTP content streamed to disk", () => {
  it("a 3 MB DATA is on disk before its final dot, then stored byte-exact with its Received: header", async () => {
    const { wire, stored } = content(3 * 1024 * 1024);
    const client = await Client.ready();
    expect(await client.send("DATA")).toMatch(/^354 /);
    for (const piece of pieces(wire)) await client.write(piece);
    // Before the dot: the content is already in a temporary file, not in memory.
    await until("a temporary file with most of the content", () =>
      temporaryFiles().some((name) => statSync(path.join(temporaryDir, name)).size > 2 * 1024 * 1024),
    );
    const queued = await client.send(".");
    const id = /^250 2\.0\.0 Ok: queued as (\S+)\r\n$/.exec(queued)?.[1];
    expect(id, queued).toBeDefined();
    const file = readFileSync(path.join(dataDir, "bodies", "bodies", id!), "latin1");
    expect(file).toMatch(/^Received: from stream\.example .*\r\n(\t.*\r\n)*/);
    expect(file.replace(/^Received:(?:.*\r\n)(?:\t.*\r\n)*/, "")).toBe(stored);
    const view = await server.node.services.messages.view(id!);
    expect(view?.message).toMatchObject({
      size: file.length,
      headerMessageId: "<stream-test@example.com>",
      mailFrom: USER.login,
    });
    expect(temporaryFiles()).toEqual([]);
    client.close();
  });

  it("BDAT in 1 MB chunks: stored byte-exact, no unstuffing", async () => {
    const { wire } = content(2 * 1024 * 1024 + 5);
    const client = await Client.ready();
    const chunks = pieces(wire, 1024 * 1024);
    for (const [i, chunk] of chunks.entries()) {
      await client.write(`BDAT ${chunk.length}${i === chunks.length - 1 ? " LAST" : ""}\r\n`);
      await client.write(chunk);
      const reply = await client.reply();
      expect(reply).toMatch(
        i === chunks.length - 1 ? /^250 2\.0\.0 Ok: queued as / : /^250 2\.0\.0 Ok: \d+ bytes/,
      );
      if (i === chunks.length - 1) {
        const id = /queued as (\S+)/.exec(reply)![1]!;
        const file = readFileSync(path.join(dataDir, "bodies", "bodies", id), "latin1");
        expect(file.replace(/^Received:(?:.*\r\n)(?:\t.*\r\n)*/, "")).toBe(wire);
      }
    }
    client.close();
  });

  it("over message_size_limit: 552 after the dot, the partial file removed, nothing queued", async () => {
    const before = await messageCount();
    const { wire } = content(LIMIT + 512 * 1024);
    const client = await Client.ready();
    expect(await client.send("DATA")).toMatch(/^354 /);
    for (const piece of pieces(wire)) await client.write(piece);
    expect(await client.send(".")).toMatch(/^552 5\.3\.4 /);
    expect(temporaryFiles()).toEqual([]);
    expect(await messageCount()).toBe(before);
    expect(await client.send("NOOP")).toMatch(/^250 /); // the session goes on
    client.close();
  });

  it("a bare LF after a megabyte: 521, the partial file removed, nothing queued", async () => {
    const before = await messageCount();
    const { wire } = content(1024 * 1024);
    const client = await Client.ready();
    expect(await client.send("DATA")).toMatch(/^354 /);
    for (const piece of pieces(wire)) await client.write(piece);
    await until("the content on disk", () => temporaryFiles().length === 1);
    await client.write("smuggled\n.\nMAIL FROM:<x@example.com>\r\n");
    expect(await client.reply()).toMatch(/^521 /);
    expect(await client.reply()).toBe("<eof>");
    expect(temporaryFiles()).toEqual([]);
    expect(await messageCount()).toBe(before);
  });

  it("the client goes away mid-DATA: the partial file is removed, nothing queued", async () => {
    const before = await messageCount();
    const { wire } = content(1024 * 1024);
    const client = await Client.ready();
    expect(await client.send("DATA")).toMatch(/^354 /);
    for (const piece of pieces(wire)) await client.write(piece);
    await until("the content on disk", () => temporaryFiles().length === 1);
    client.close();
    await until("the partial file removed", () => temporaryFiles().length === 0);
    expect(await messageCount()).toBe(before);
  });
});
