// smtpd_sasl_type = dovecot on the Node SMTP listener, against a real Dovecot auth service
// (test/dovecot) and real clients: swaks with CRAM-MD5, gsasl --smtp with SCRAM-SHA-256 (two
// challenge-response mechanisms HTTP cannot relay), a message submitted as a Dovecot user, and
// one Dovecot connection per SMTP session (counted by a TCP relay in front of Dovecot).
import { execFile, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import tls from "node:tls";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningNodeServer, startNodeServer } from "../../src/node/node-server.ts";
import { type RunningDovecot, startDovecot } from "../dovecot/dovecot-process.ts";

const run = promisify(execFile);
const ADMIN_TOKEN = "smtp-dovecot-admin-token-0123";
const SECRET_KEY = `k1:${Buffer.alloc(32, 9).toString("base64")}`;
const scratch = mkdtempSync(path.join(tmpdir(), "postern-smtp-dovecot-"));

let dovecot: RunningDovecot;
let relay: net.Server;
let relayed = 0;
let server: RunningNodeServer;
let smtpPort: number;
let smtpsPort: number;

beforeAll(async () => {
  dovecot = await startDovecot();
  // A plain TCP relay in front of Dovecot: it counts the auth connections Postern opens.
  relay = net.createServer((inbound) => {
    relayed++;
    const outbound = net.connect({ host: dovecot.host, port: dovecot.port });
    inbound.pipe(outbound).pipe(inbound);
    inbound.on("error", () => outbound.destroy());
    outbound.on("error", () => inbound.destroy());
  });
  await new Promise<void>((resolve) => relay.listen(0, "127.0.0.1", resolve));
  const relayPort = (relay.address() as net.AddressInfo).port;
  server = await startNodeServer({
    dataDir: path.join(scratch, "data"),
    port: 0,
    adminToken: ADMIN_TOKEN,
    secretKey: SECRET_KEY,
    settingsOverrides: { myhostname: "mx.postern.test", relayhost: "[127.0.0.1]:9" },
    smtp: {
      port: 0,
      tlsPort: 0,
      parameters: {
        smtpd_sasl_auth_enable: "yes",
        smtpd_sasl_type: "dovecot",
        smtpd_sasl_path: `inet:127.0.0.1:${relayPort}`,
        // gsasl --smtp sends STARTTLS and AUTH without EHLO.
        smtpd_helo_required: "no",
      },
    },
  });
  smtpPort = server.smtp!.port!;
  smtpsPort = server.smtp!.tlsPort!;
  // Dovecot's alice may send as alice@example.com (smtpd_sender_login_maps).
  const res = await fetch(`${server.url}/v1/admin/maps/sender_login/alice%40example.com`, {
    method: "PUT",
    headers: { authorization: `Bearer ${ADMIN_TOKEN}`, "content-type": "application/json" },
    body: JSON.stringify({ value: "alice" }),
  });
  expect(res.status).toBeLessThan(300);
}, 30_000);

afterAll(async () => {
  await server?.stop();
  await new Promise((resolve) => relay?.close(resolve));
  await dovecot?.remove();
  rmSync(scratch, { recursive: true, force: true });
});

/** A minimal line client for one implicit-TLS session. */
async function session(port: number) {
  const socket = tls.connect({ host: "127.0.0.1", port, rejectUnauthorized: false });
  await new Promise<void>((resolve, reject) => {
    socket.once("secureConnect", resolve);
    socket.once("error", reject);
  });
  let buffer = "";
  const waiters: (() => void)[] = [];
  socket.setEncoding("utf8").on("data", (chunk: string) => {
    buffer += chunk;
    for (const wake of waiters.splice(0)) wake();
  });
  const reply = async (): Promise<string> => {
    for (;;) {
      const match = /^(?:\d{3}-[^\r\n]*\r\n)*\d{3}(?: [^\r\n]*)?\r\n/.exec(buffer);
      if (match) {
        buffer = buffer.slice(match[0].length);
        return match[0];
      }
      await new Promise<void>((resolve) => waiters.push(resolve));
    }
  };
  return {
    reply,
    send: (line: string) => {
      socket.write(`${line}\r\n`);
      return reply();
    },
    close: () => socket.destroy(),
  };
}

const b64 = (text: string) => Buffer.from(text).toString("base64");

describe("smtpd_sasl_type = dovecot on SMTP (real Dovecot)", () => {
  it("announces Dovecot's challenge-response mechanisms, and one session uses one Dovecot connection", async () => {
    const before = relayed;
    const client = await session(smtpsPort);
    expect(await client.reply()).toMatch(/^220 /);
    const ehlo = await client.send("EHLO raw.example");
    const mechanisms = /^250-AUTH (.*)\r$/m.exec(ehlo)?.[1]?.split(" ");
    expect(mechanisms).toEqual(["SCRAM-SHA-256", "SCRAM-SHA-1", "CRAM-MD5", "PLAIN", "LOGIN"]);
    // A wrong password, then LOGIN in two steps, on the same Dovecot connection.
    expect(await client.send(`AUTH PLAIN ${b64("\0alice\0wrong")}`)).toMatch(/^535 5\.7\.8 /);
    expect(await client.send("AUTH LOGIN")).toBe(`334 ${b64("Username:")}\r\n`);
    expect(await client.send(b64("alice"))).toBe(`334 ${b64("Password:")}\r\n`);
    expect(await client.send(b64("alice-secret"))).toMatch(/^235 2\.7\.0 /);
    expect(await client.send("QUIT")).toMatch(/^221 /);
    client.close();
    expect(relayed - before).toBe(1);
  });

  it("swaks --auth CRAM-MD5 over STARTTLS: a message from a Dovecot user, stored with its login", async () => {
    // biome-ignore format: option/value pairs read better side by side
    const { stdout } = await run("swaks", [
      "--server", "127.0.0.1", "--port", String(smtpPort), "--tls",
      "--auth", "CRAM-MD5", "--auth-user", "alice", "--auth-password", "alice-secret",
      "--from", "alice@example.com", "--to", "dovecot-rcpt@example.net", "--timeout", "10",
    ]);
    expect(stdout).toMatch(/<~ {1,2}235 2\.7\.0 Authentication successful/);
    const id = /<~ {1,2}250 2\.0\.0 Ok: queued as (\S+)/.exec(stdout)?.[1];
    expect(id).toBeDefined();
    const view = await server.node.services.messages.view(id!);
    expect(view?.message).toMatchObject({ saslUsername: "alice", saslMethod: "CRAM-MD5", accountId: null });
  });

  it("swaks --auth CRAM-MD5 with a wrong password: 535, nothing accepted", async () => {
    // biome-ignore format: option/value pairs read better side by side
    await expect(
      run("swaks", [
        "--server", "127.0.0.1", "--port", String(smtpsPort), "--tls-on-connect",
        "--auth", "CRAM-MD5", "--auth-user", "alice", "--auth-password", "not-it",
        "--from", "alice@example.com", "--to", "x@example.net", "--timeout", "10",
      ]),
    ).rejects.toMatchObject({ stdout: expect.stringMatching(/<~\* 535 5\.7\.8 /) });
  });

  it("gsasl --smtp SCRAM-SHA-256 for a user Dovecot stores only as SCRAM keys: server verified", async () => {
    const output = await new Promise<string>((resolve, reject) => {
      // biome-ignore format: option/value pairs read better side by side
      const child = spawn("gsasl", [
        "--client", "--smtp", `--connect=127.0.0.1:${smtpPort}`, "--starttls",
        `--x509-ca-file=${server.smtp!.certificate.certFile}`,
        "--mechanism=SCRAM-SHA-256",
        // Over TLS, gsasl's plain SCRAM-SHA-256 client gives up before its first message unless
        // told to leave channel binding (Dovecot 2.3 has no -PLUS) aside.
        "--no-cb", "--authentication-id=bob", "--password=bob-secret",
      ], { stdio: ["ignore", "pipe", "pipe"], timeout: 15_000 });
      let text = "";
      child.stdout.setEncoding("utf8").on("data", (chunk: string) => (text += chunk));
      child.stderr.setEncoding("utf8").on("data", (chunk: string) => (text += chunk));
      child.once("error", reject);
      child.once("close", () => resolve(text));
    });
    expect(output).toMatch(/^235 2\.7\.0 Authentication successful$/m);
    // Dovecot's v= reached gsasl (as a 334 answered empty) and proved the server.
    expect(output).toMatch(/Client authentication finished \(server trusted\)/);
  });
});
