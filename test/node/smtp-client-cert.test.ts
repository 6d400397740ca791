// Client certificates on the Node SMTP listener: smtpd_tls_ask_ccert with smtpd_tls_CAfile, a
// verified certificate mapped to a login by postern_tls_ccert_login_maps (its fingerprint, as
// check_ccert_access keys it), SASL EXTERNAL with curl (--cert, AUTH=EXTERNAL) over STARTTLS and
// implicit TLS, EXTERNAL never offered to a client without such a certificate, and
// smtpd_tls_req_ccert's 421. Certificates are made with openssl for each run.
import { execFile, execFileSync } from "node:child_process";
import { X509Certificate } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import tls from "node:tls";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningNodeServer, startNodeServer } from "../../src/node/node-server.ts";
import { type RunningSmtpListener, startSmtpListener } from "../../src/node/smtp-listener.ts";

const run = promisify(execFile);
const ADMIN_TOKEN = "smtp-ccert-admin-token-012345";
const SECRET_KEY = `k1:${Buffer.alloc(32, 3).toString("base64")}`;
const HOST = "mx.postern.test";
const scratch = mkdtempSync(path.join(tmpdir(), "postern-smtp-ccert-"));
const dataDir = path.join(scratch, "data");
const file = (name: string) => path.join(scratch, name);
const ALICE = { login: "alice@example.com", password: `pw-${crypto.randomUUID()}` };

let server: RunningNodeServer;
let listener: RunningSmtpListener;
let required: RunningSmtpListener;

function openssl(args: string[]): void {
  execFileSync("openssl", args, { stdio: ["ignore", "ignore", "pipe"] });
}

/** A CA, a client certificate it signed for `cn`, and one nobody signed. */
function makeCertificates(): void {
  // biome-ignore format: option/value pairs read better side by side
  openssl(["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
    "-keyout", file("ca.key"), "-out", file("ca.pem"), "-days", "2", "-subj", "/CN=Postern test client CA",
    "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign"]);
  const extensions = file("client.ext");
  writeFileSync(extensions, "basicConstraints=CA:FALSE\nextendedKeyUsage=clientAuth\n");
  for (const name of ["alice", "nobody"]) {
    // biome-ignore format: option/value pairs read better side by side
    openssl(["req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
      "-keyout", file(`${name}.key`), "-out", file(`${name}.csr`), "-subj", `/CN=${name}`]);
    // biome-ignore format: option/value pairs read better side by side
    openssl(["x509", "-req", "-in", file(`${name}.csr`), "-CA", file("ca.pem"), "-CAkey", file("ca.key"),
      "-CAcreateserial", "-days", "2", "-out", file(`${name}.pem`), "-extfile", extensions]);
  }
  // biome-ignore format: option/value pairs read better side by side
  openssl(["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
    "-keyout", file("rogue.key"), "-out", file("rogue.pem"), "-days", "2", "-subj", "/CN=alice"]);
}

beforeAll(async () => {
  makeCertificates();
  server = await startNodeServer({
    dataDir,
    port: 0,
    adminToken: ADMIN_TOKEN,
    secretKey: SECRET_KEY,
    settingsOverrides: { myhostname: HOST, relayhost: "[127.0.0.1]:9" },
    smtp: { port: null, tlsPort: null },
  });
  const admin = async (method: string, route: string, body: unknown) => {
    const res = await fetch(`${server.url}/v1/admin${route}`, {
      method,
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, "content-type": "application/json" },
      body: JSON.stringify(body),
    });
    if (!res.ok) throw new Error(`${method} ${route}: ${res.status} ${await res.text()}`);
  };
  await admin("POST", "/accounts", { login: ALICE.login, password: ALICE.password });
  await admin("PUT", `/maps/sender_login/${encodeURIComponent(ALICE.login)}`, { value: ALICE.login });
  // alice's certificate by its SHA-256 fingerprint, as Postfix's check_ccert_access keys it.
  const fingerprint = new X509Certificate(readFileSync(file("alice.pem"))).fingerprint256;
  await admin("PUT", `/maps/ccert_login/${encodeURIComponent(fingerprint)}`, { value: ALICE.login });
  // "nobody" is signed by the CA too, but no map entry names it.
  const base = {
    smtpd_sasl_auth_enable: "yes",
    smtpd_tls_CAfile: file("ca.pem"),
    postern_tls_ccert_login_maps: "sqlite:ccert_login",
    // Postfix's default filter (!external) hides EXTERNAL; a deployment using it lets it through.
    smtpd_sasl_mechanism_filter: "static:all",
  };
  listener = await startSmtpListener(server.node.services, dataDir, {
    port: 0,
    tlsPort: 0,
    parameters: { ...base, smtpd_tls_ask_ccert: "yes" },
  });
  required = await startSmtpListener(server.node.services, dataDir, {
    port: 0,
    tlsPort: 0,
    parameters: { ...base, smtpd_tls_req_ccert: "yes" },
  });
}, 30_000);

afterAll(async () => {
  await listener?.stop(0);
  await required?.stop(0);
  await server?.stop();
  rmSync(scratch, { recursive: true, force: true });
});

async function curlExternal(url: string, cert: string, extra: string[] = []) {
  const message = file("message.eml");
  writeFileSync(message, `From: <${ALICE.login}>\r\nSubject: EXTERNAL\r\n\r\nvia a client certificate\r\n`);
  // biome-ignore format: option/value pairs read better side by side
  return run("curl", [
    "-sS", "-v", "--url", url, "--cacert", listener.certificate.certFile, "--max-time", "15",
    "--cert", file(`${cert}.pem`), "--key", file(`${cert}.key`),
    "--user", `${ALICE.login}:`, "--login-options", "AUTH=EXTERNAL",
    "--mail-from", ALICE.login, "--mail-rcpt", "ccert@example.net", "--upload-file", message, ...extra,
  ]);
}

/** EHLO over implicit TLS with an optional client certificate: the AUTH line. */
async function authLine(port: number, cert: string | null): Promise<string> {
  const socket = tls.connect({
    host: "127.0.0.1",
    port,
    rejectUnauthorized: false,
    ...(cert ? { cert: readFileSync(file(`${cert}.pem`)), key: readFileSync(file(`${cert}.key`)) } : {}),
  });
  let text = "";
  socket.setEncoding("utf8").on("data", (chunk: string) => (text += chunk));
  const until = async (pattern: RegExp) => {
    while (!pattern.test(text)) {
      if (socket.destroyed) return;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  };
  await until(/^220 .*\r\n/m);
  socket.write("EHLO client.example\r\n");
  await until(/^250 .*\r\n/m);
  socket.destroy();
  return /^250-AUTH .*$/m.exec(text)?.[0] ?? "";
}

describe("client certificates and EXTERNAL", { timeout: 20_000 }, () => {
  it("curl --cert with AUTH=EXTERNAL over STARTTLS and smtps: the mapped login sends", async () => {
    for (const url of [
      `smtp://127.0.0.1:${listener.port}/curl.example`,
      `smtps://127.0.0.1:${listener.tlsPort}/`,
    ]) {
      const { stderr } = await curlExternal(url, "alice", url.startsWith("smtp:") ? ["--ssl-reqd"] : []);
      expect(stderr).toMatch(/^> AUTH EXTERNAL/m);
      const id = /^< 250 2\.0\.0 Ok: queued as (\S+)/m.exec(stderr)?.[1];
      const view = await server.node.services.messages.view(id!);
      expect(view?.message).toMatchObject({ saslUsername: ALICE.login, saslMethod: "EXTERNAL" });
    }
  });

  it("EXTERNAL is offered only with a verified, mapped certificate", async () => {
    expect(await authLine(listener.tlsPort!, "alice")).toMatch(/ EXTERNAL\b/);
    expect(await authLine(listener.tlsPort!, null)).not.toMatch(/EXTERNAL/);
    // Signed by the CA, but mapped to nobody.
    expect(await authLine(listener.tlsPort!, "nobody")).not.toMatch(/EXTERNAL/);
    // The same subject, not signed by the CA: not verified.
    expect(await authLine(listener.tlsPort!, "rogue")).not.toMatch(/EXTERNAL/);
    // Without EXTERNAL on offer, curl's AUTH=EXTERNAL has nothing to use: over implicit TLS and
    // over STARTTLS (where the verification is read differently).
    for (const [url, extra] of [
      [`smtps://127.0.0.1:${listener.tlsPort}/`, []],
      [`smtp://127.0.0.1:${listener.port}/`, ["--ssl-reqd"]],
    ] as const) {
      await expect(curlExternal(url, "rogue", [...extra])).rejects.toMatchObject({
        stderr: expect.stringMatching(/No known authentication mechanisms supported/),
      });
    }
  });

  it("smtpd_tls_req_ccert: 421 4.7.1 without a verified certificate, the session as usual with one", async () => {
    const refused = async (cert: string | null) => {
      const socket = tls.connect({
        host: "127.0.0.1",
        port: required.tlsPort!,
        rejectUnauthorized: false,
        ...(cert ? { cert: readFileSync(file(`${cert}.pem`)), key: readFileSync(file(`${cert}.key`)) } : {}),
      });
      let text = "";
      socket.setEncoding("utf8").on("data", (chunk: string) => (text += chunk));
      await new Promise((resolve) => socket.once("close", resolve));
      return text;
    };
    expect(await refused(null)).toBe(`421 4.7.1 ${HOST} Error: No client certificate presented\r\n`);
    // After STARTTLS: the same answer, in place of the session.
    const raw = net.connect({ host: "127.0.0.1", port: required.port! });
    let text = "";
    raw.setEncoding("utf8").on("data", (chunk: string) => (text += chunk));
    const until = async (pattern: RegExp) => {
      while (!pattern.test(text)) await new Promise((resolve) => setTimeout(resolve, 10));
    };
    await until(/^220 /m);
    raw.write("EHLO client.example\r\n");
    await until(/^250 /m);
    raw.write("STARTTLS\r\n");
    await until(/^220 2\.0\.0 /m);
    raw.removeAllListeners("data");
    const secure = tls.connect({ socket: raw, rejectUnauthorized: false });
    let afterTls = "";
    secure.setEncoding("utf8").on("data", (chunk: string) => (afterTls += chunk));
    await new Promise((resolve) => secure.once("close", resolve));
    expect(afterTls).toBe(`421 4.7.1 ${HOST} Error: No client certificate presented\r\n`);
    expect(await refused("rogue")).toBe(`421 4.7.1 ${HOST} Error: Client certificate not trusted\r\n`);
    expect(await authLine(required.tlsPort!, "alice")).toMatch(/ EXTERNAL\b/);
  });
});
