// End-to-end checks of the test smarthost (test/smarthost/server.ts) over real sockets, so the
// Workers integration tests can trust what it answers and records.
import { once } from "node:events";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import tls from "node:tls";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { makeTestCertificates } from "../smarthost/certificates.ts";
import { bodyBytes, type Smarthost, smarthost } from "../smarthost/client.ts";
import { type RunningSmarthost, startSmarthost } from "../smarthost/spawn.ts";

const HOST = "127.0.0.1";
const certificates = makeTestCertificates(path.resolve(".wrangler/test-certs"));
const ca = readFileSync(certificates.caFile);
const scratch = mkdtempSync(path.join(tmpdir(), "postern-smarthost-"));
const countFile = path.join(scratch, "count");

let running: RunningSmarthost;
let sh: Smarthost;

beforeAll(async () => {
  running = await startSmarthost({
    SMARTHOST_CERT: certificates.certFile,
    SMARTHOST_KEY: certificates.keyFile,
    SMARTHOST_USERS: "relay:relay-secret,other:other-secret",
    SMARTHOST_COUNT_FILE: countFile,
  });
  sh = smarthost(running.json);
});

afterAll(async () => {
  await running?.stop();
  rmSync(scratch, { recursive: true, force: true });
});

/** A line-oriented SMTP client: replies come back whole, multi-line ones joined with "\n". */
interface Dialog {
  socket: net.Socket;
  reply(): Promise<string>;
  send(line: string): Promise<string>;
  write(data: string | Buffer): void;
  /** Stops reading, so the socket can be handed to tls.connect after STARTTLS. */
  detach(): void;
}

function dialog(socket: net.Socket): Dialog {
  let buffer = "";
  let lines: string[] = [];
  let closed = false;
  const replies: string[] = [];
  const waiters: { resolve(reply: string): void; reject(error: Error): void }[] = [];
  const onData = (chunk: Buffer) => {
    buffer += chunk.toString("latin1");
    for (let end = buffer.indexOf("\r\n"); end >= 0; end = buffer.indexOf("\r\n")) {
      const line = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      lines.push(line);
      if (line[3] === "-") continue;
      const reply = lines.join("\n");
      lines = [];
      const waiter = waiters.shift();
      if (waiter) waiter.resolve(reply);
      else replies.push(reply);
    }
  };
  const onClose = () => {
    closed = true;
    for (const waiter of waiters.splice(0))
      waiter.reject(new Error(`connection closed (pending: ${buffer})`));
  };
  socket.on("data", onData);
  socket.on("close", onClose);
  socket.on("error", () => {});
  const reply = () =>
    new Promise<string>((resolve, reject) => {
      const queued = replies.shift();
      if (queued !== undefined) resolve(queued);
      else if (closed) reject(new Error("connection closed"));
      else waiters.push({ resolve, reject });
    });
  return {
    socket,
    reply,
    send(line) {
      socket.write(`${line}\r\n`);
      return reply();
    },
    write(data) {
      socket.write(data);
    },
    detach() {
      socket.off("data", onData);
      socket.off("close", onClose);
    },
  };
}

async function connect(port: number): Promise<Dialog> {
  const socket = net.connect(port, HOST);
  await once(socket, "connect");
  const d = dialog(socket);
  expect(await d.reply()).toMatch(/^220 smarthost\.test ESMTP/);
  return d;
}

async function connectTls(port: number): Promise<Dialog> {
  // No servername: the certificate must match the IP address itself (IP SAN).
  const socket = tls.connect({ port, host: HOST, ca });
  await once(socket, "secureConnect");
  const d = dialog(socket);
  expect(await d.reply()).toMatch(/^220 /);
  return d;
}

async function startTls(plain: Dialog): Promise<Dialog> {
  expect(await plain.send("STARTTLS")).toBe("220 Ready to start TLS");
  plain.detach();
  const socket = tls.connect({ socket: plain.socket, ca, servername: "localhost" });
  await once(socket, "secureConnect");
  return dialog(socket);
}

const b64 = (text: string) => Buffer.from(text).toString("base64");

/** MAIL, RCPT, DATA with dot-stuffing; returns the final DATA reply. */
async function deliver(d: Dialog, from: string, to: string[], body: Buffer): Promise<string> {
  expect(await d.send(`MAIL FROM:<${from}>`)).toMatch(/^250 /);
  for (const rcpt of to) expect(await d.send(`RCPT TO:<${rcpt}>`)).toMatch(/^250 /);
  expect(await d.send("DATA")).toMatch(/^354 /);
  d.write(Buffer.from(body.toString("latin1").replace(/^\./gm, ".."), "latin1"));
  return d.send(".");
}

const queued = /^250 2\.0\.0 Ok: queued as ([0-9A-F]+)$/;

describe("test smarthost", () => {
  test("starttls: TLS before AUTH, AUTH PLAIN, byte-exact body with dot-unstuffing", async () => {
    const plain = await connect(sh.ports.starttls);
    const extensions = (await plain.send("EHLO client.test")).split("\n").map((line) => line.slice(4));
    for (const extension of ["PIPELINING", "8BITMIME", "SMTPUTF8", "SIZE 31457280", "STARTTLS"]) {
      expect(extensions).toContain(extension);
    }
    expect(await plain.send("MAIL FROM:<a@example.test>")).toMatch(/^530 /);
    expect(await plain.send(`AUTH PLAIN ${b64("\0relay\0relay-secret")}`)).toMatch(/^538 /);

    const d = await startTls(plain);
    const secureEhlo = await d.send("EHLO client.test");
    expect(secureEhlo).not.toContain("STARTTLS");
    expect(secureEhlo).toContain("AUTH PLAIN LOGIN");
    expect(await d.send(`AUTH PLAIN ${b64("\0relay\0relay-secret")}`)).toMatch(/^235 /);

    const body = Buffer.from(
      "From: a@example.test\r\nSubject: hi\r\n\r\n.leading dot\r\n.\r\n..two dots\r\nGrüße 8bit\r\nlast\r\n",
    );
    const answer = await deliver(d, "a@example.test", ["Someone@Example.test"], body);
    const id = queued.exec(answer)?.[1];
    expect(id, answer).toBeDefined();
    expect(await d.send("QUIT")).toMatch(/^221 /);

    const [message, ...more] = await sh.messages("someone@EXAMPLE.test");
    expect(more).toEqual([]);
    expect(message).toMatchObject({
      id,
      server: "starttls",
      mailFrom: "a@example.test",
      rcptTo: ["Someone@Example.test"],
      authUser: "relay",
      secure: true,
      size: body.length,
    });
    expect(Buffer.from(bodyBytes(message!)).equals(body)).toBe(true);
    expect(Number.isNaN(Date.parse(message!.receivedAt))).toBe(false);
  });

  test("implicit TLS with the test CA, AUTH LOGIN", async () => {
    const d = await connectTls(sh.ports.implicit);
    expect(await d.send("EHLO client.test")).not.toContain("STARTTLS");
    expect(await d.send("AUTH LOGIN")).toBe("334 VXNlcm5hbWU6");
    expect(await d.send(b64("other"))).toBe("334 UGFzc3dvcmQ6");
    expect(await d.send(b64("other-secret"))).toMatch(/^235 /);
    const answer = await deliver(d, "", ["implicit@example.test"], Buffer.from("Subject: x\r\n\r\nbody\r\n"));
    expect(answer).toMatch(queued);
    d.socket.destroy();
    const [message] = await sh.messages("implicit@example.test");
    expect(message).toMatchObject({ server: "implicit", secure: true, authUser: "other", mailFrom: "" });
  });

  test("plain: wrong password gets 535, AUTH works without TLS, AUTH is required", async () => {
    const d = await connect(sh.ports.plain);
    expect(await d.send("EHLO client.test")).not.toContain("STARTTLS");
    expect(await d.send(`AUTH PLAIN ${b64("\0relay\0wrong")}`)).toBe(
      "535 5.7.8 Error: authentication failed: authentication failure",
    );
    expect(await d.send("MAIL FROM:<a@example.test>")).toMatch(/^530 /);
    expect(await d.send(`AUTH PLAIN ${b64("\0relay\0relay-secret")}`)).toMatch(/^235 /);
    expect(await deliver(d, "a@example.test", ["plain@example.test"], Buffer.from("x\r\n"))).toMatch(queued);
    d.socket.destroy();
    const [message] = await sh.messages("plain@example.test");
    expect(message).toMatchObject({ server: "plain", secure: false, authUser: "relay" });
  });

  test("open: outcomes by recipient local part, pipelined", async () => {
    const d = await connect(sh.ports.open);
    expect(await d.send("EHLO client.test")).not.toMatch(/AUTH|STARTTLS/);
    // Everything in one write, as a PIPELINING client would.
    d.write(
      "MAIL FROM:<a@example.test>\r\nRCPT TO:<reject550-x@example.test>\r\nRCPT TO:<Defer451@example.test>\r\n" +
        "RCPT TO:<ok@example.test>\r\nDATA\r\n",
    );
    expect(await d.reply()).toMatch(/^250 /);
    expect(await d.reply()).toBe(
      "550 5.1.1 <reject550-x@example.test>: Recipient address rejected: User unknown",
    );
    expect(await d.reply()).toBe("451 4.3.0 <Defer451@example.test>: Temporary failure");
    expect(await d.reply()).toMatch(/^250 /);
    expect(await d.reply()).toMatch(/^354 /);
    expect(await d.send("Subject: mixed\r\n\r\nhello\r\n.")).toMatch(queued);
    const [mixed] = await sh.messages("ok@example.test");
    expect(mixed).toMatchObject({
      server: "open",
      rcptTo: ["ok@example.test"],
      authUser: null,
      secure: false,
    });

    const rejected = await deliver(d, "a@example.test", ["datareject@example.test"], Buffer.from("x\r\n"));
    expect(rejected).toBe("554 5.6.0 Message rejected");
    expect(await sh.messages("datareject@example.test")).toEqual([]);
    // The session carries on after a rejected message.
    expect(await deliver(d, "a@example.test", ["after@example.test"], Buffer.from("x\r\n"))).toMatch(queued);
    d.socket.destroy();
  });

  test("dropdata: the connection goes away mid-DATA without a reply", async () => {
    const d = await connect(sh.ports.open);
    await d.send("EHLO client.test");
    expect(await d.send("MAIL FROM:<a@example.test>")).toMatch(/^250 /);
    expect(await d.send("RCPT TO:<dropdata@example.test>")).toMatch(/^250 /);
    expect(await d.send("DATA")).toMatch(/^354 /);
    const closed = once(d.socket, "close");
    d.write("Subject: partial\r\n\r\nfirst part of the body\r\n");
    await expect(d.reply()).rejects.toThrow(/closed/);
    await closed;
    expect(await sh.messages("dropdata@example.test")).toEqual([]);
  });

  test("down refuses connections, up restores the same ports", async () => {
    const before = { ...sh.ports };
    await sh.down();
    for (const port of [before.starttls, before.implicit, before.plain, before.open]) {
      const socket = net.connect(port, HOST);
      const [error] = (await once(socket, "error")) as [NodeJS.ErrnoException];
      expect(error.code).toBe("ECONNREFUSED");
    }
    const health = (await (await fetch(`http://${HOST}:${before.control}/health`)).json()) as { up: boolean };
    expect(health.up).toBe(false);
    await sh.down(); // idempotent
    await sh.up();
    await sh.up();
    const d = await connect(before.open);
    d.socket.destroy();
    (await connectTls(before.implicit)).socket.destroy();
    const after = (await (await fetch(`http://${HOST}:${before.control}/health`)).json()) as {
      up: boolean;
      ports: unknown;
    };
    expect(after).toMatchObject({ up: true, ports: before });
  });

  test("count file, clear, unknown routes", async () => {
    const all = await sh.messages();
    expect(all.length).toBeGreaterThanOrEqual(5);
    expect(new Set(all.map((message) => message.id)).size).toBe(all.length);
    expect(readFileSync(countFile, "utf8")).toBe(`${all.length}\n`);
    await sh.clear();
    expect(await sh.messages()).toEqual([]);
    // The count is a running total for benchmarks: clearing the store does not reset it.
    expect(readFileSync(countFile, "utf8")).toBe(`${all.length}\n`);
    const missing = await fetch(`http://${HOST}:${sh.ports.control}/nope`);
    expect(missing.status).toBe(404);
    await expect(sh.waitForMessages("nobody@example.test", 1, 100)).rejects.toThrow(/0 of 1/);
  });
});
