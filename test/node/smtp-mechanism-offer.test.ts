// Which mechanisms the SMTP listener announces depends on the accounts: CRAM-MD5 and DIGEST-MD5
// only once some account keeps a shared secret. Before that, curl without --login-options (it
// prefers DIGEST-MD5 and CRAM-MD5 to PLAIN and does not fall back) logs in with PLAIN; the
// mechanisms are neither announced nor accepted (504).
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import tls from "node:tls";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningNodeServer, startNodeServer } from "../../src/node/node-server.ts";
import { startSmtpListener } from "../../src/node/smtp-listener.ts";

const run = promisify(execFile);
const ADMIN_TOKEN = "smtp-offer-admin-token-0123456";
const scratch = mkdtempSync(path.join(tmpdir(), "postern-smtp-offer-"));
const dataDir = path.join(scratch, "data");
const ALICE = { login: "alice@example.com", password: `pw-${crypto.randomUUID()}` };
const CAROL = { login: "carol@example.com", password: `pw-${crypto.randomUUID()}` };

let server: RunningNodeServer;

async function admin(method: string, route: string, body: unknown): Promise<void> {
  const res = await fetch(`${server.url}/v1/admin${route}`, {
    method,
    headers: { authorization: `Bearer ${ADMIN_TOKEN}`, "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  if (!res.ok) throw new Error(`${method} ${route}: ${res.status} ${await res.text()}`);
}

beforeAll(async () => {
  server = await startNodeServer({
    dataDir,
    port: 0,
    adminToken: ADMIN_TOKEN,
    secretKey: `k1:${Buffer.alloc(32, 4).toString("base64")}`,
    settingsOverrides: { myhostname: "mx.postern.test", relayhost: "[127.0.0.1]:9" },
    smtp: { port: null, tlsPort: null },
  });
  await admin("POST", "/accounts", { login: ALICE.login, password: ALICE.password });
  await admin("PUT", `/maps/sender_login/${encodeURIComponent(ALICE.login)}`, { value: ALICE.login });
}, 30_000);

afterAll(async () => {
  await server?.stop();
  rmSync(scratch, { recursive: true, force: true });
});

/** EHLO and then `command` over implicit TLS: the AUTH line and the command's reply. */
async function ask(port: number, command: string): Promise<{ auth: string; reply: string }> {
  const socket = tls.connect({ host: "127.0.0.1", port, rejectUnauthorized: false });
  let text = "";
  socket.setEncoding("utf8").on("data", (chunk: string) => (text += chunk));
  const until = async (pattern: RegExp) => {
    while (!pattern.test(text)) await new Promise((resolve) => setTimeout(resolve, 10));
  };
  await until(/^220 .*\r\n/m);
  socket.write("EHLO offer.example\r\n");
  await until(/^250 .*\r\n/m);
  const auth = /^250-AUTH (.*)\r$/m.exec(text)?.[1] ?? "";
  text = "";
  socket.write(`${command}\r\n`);
  await until(/^\d{3} .*\r\n/m);
  socket.destroy();
  return { auth, reply: text };
}

describe("CRAM-MD5 and DIGEST-MD5 on SMTP follow the accounts' shared secrets", () => {
  it("not announced nor accepted while no account has one; announced once one does", async () => {
    const before = await startSmtpListener(server.node.services, dataDir, {
      port: null,
      tlsPort: 0,
      parameters: { smtpd_sasl_auth_enable: "yes" },
    });
    try {
      const { auth, reply } = await ask(before.tlsPort!, "AUTH CRAM-MD5");
      expect(auth.split(" ")).toContain("PLAIN");
      expect(auth).not.toMatch(/CRAM-MD5|DIGEST-MD5/);
      expect(reply).toMatch(/^504 5\.5\.4 /);
      // curl's own choice among what is announced, with no --login-options: PLAIN works.
      const message = path.join(scratch, "m.eml");
      writeFileSync(message, `From: <${ALICE.login}>\r\nSubject: auto\r\n\r\nauto\r\n`);
      // biome-ignore format: option/value pairs read better side by side
      const { stderr } = await run("curl", [
        "-sS", "-v", "--url", `smtps://127.0.0.1:${before.tlsPort}/curl.example`, "-k",
        "--user", `${ALICE.login}:${ALICE.password}`, "--mail-from", ALICE.login,
        "--mail-rcpt", "auto@example.net", "--upload-file", message,
      ]);
      expect(stderr).toMatch(/^< 250 2\.0\.0 Ok: queued as /m);
    } finally {
      await before.stop(0);
    }

    await admin("POST", "/accounts", { login: CAROL.login, password: CAROL.password, shared_secret: true });
    const after = await startSmtpListener(server.node.services, dataDir, {
      port: null,
      tlsPort: 0,
      parameters: { smtpd_sasl_auth_enable: "yes" },
    });
    try {
      const { auth, reply } = await ask(after.tlsPort!, "AUTH CRAM-MD5");
      expect(auth.split(" ")).toEqual(expect.arrayContaining(["CRAM-MD5", "DIGEST-MD5", "PLAIN"]));
      expect(reply).toMatch(/^334 /);
    } finally {
      await after.stop(0);
    }
  }, 30_000);
});
