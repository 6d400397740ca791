// smtpd_tls_cert_file / smtpd_tls_key_file replaced on disk: new connections (implicit TLS and
// STARTTLS) get the new certificate without a restart; a half-replaced pair (a new certificate
// with the old key) is refused and the old pair keeps serving until the key follows.
import { execFileSync } from "node:child_process";
import { copyFileSync, mkdtempSync, renameSync, rmSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import tls from "node:tls";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningNodeServer, startNodeServer } from "../../src/node/node-server.ts";
import { type RunningSmtpListener, startSmtpListener } from "../../src/node/smtp-listener.ts";

const scratch = mkdtempSync(path.join(tmpdir(), "postern-smtp-reload-"));
const file = (name: string) => path.join(scratch, name);
const certFile = file("smtpd.pem");
const keyFile = file("smtpd.key");

let server: RunningNodeServer;
let listener: RunningSmtpListener;

function makeCertificate(name: string): void {
  // biome-ignore format: option/value pairs read better side by side
  execFileSync("openssl", ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
    "-keyout", file(`${name}.key`), "-out", file(`${name}.pem`), "-days", "2", "-subj", `/CN=${name}`],
    { stdio: ["ignore", "ignore", "pipe"] });
}

/** Replaces a file the way certificate tools do: a new file renamed over the old name. */
function replace(target: string, source: string): void {
  copyFileSync(source, `${target}.new`);
  renameSync(`${target}.new`, target);
}

beforeAll(async () => {
  for (const name of ["first.test", "second.test"]) makeCertificate(name);
  copyFileSync(file("first.test.pem"), certFile);
  copyFileSync(file("first.test.key"), keyFile);
  server = await startNodeServer({
    dataDir: file("data"),
    port: 0,
    adminToken: "reload-admin-token-0123456789",
    secretKey: `k1:${Buffer.alloc(32, 1).toString("base64")}`,
    settingsOverrides: { myhostname: "mx.postern.test" },
    smtp: { port: null, tlsPort: null },
  });
  listener = await startSmtpListener(server.node.services, file("data"), {
    port: 0,
    tlsPort: 0,
    parameters: { smtpd_tls_cert_file: certFile, smtpd_tls_key_file: keyFile },
  });
}, 30_000);

afterAll(async () => {
  await listener?.stop(0);
  await server?.stop();
  rmSync(scratch, { recursive: true, force: true });
});

/** The subject CN a new implicit-TLS connection is served. */
async function implicitName(): Promise<string> {
  const socket = tls.connect({ host: "127.0.0.1", port: listener.tlsPort!, rejectUnauthorized: false });
  await new Promise<void>((resolve, reject) => {
    socket.once("secureConnect", resolve);
    socket.once("error", reject);
  });
  const name = String(socket.getPeerCertificate().subject.CN);
  socket.destroy();
  return name;
}

/** The subject CN a new STARTTLS session is served. */
async function starttlsName(): Promise<string> {
  const raw = net.connect({ host: "127.0.0.1", port: listener.port! });
  let text = "";
  raw.setEncoding("utf8").on("data", (chunk: string) => (text += chunk));
  const until = async (pattern: RegExp) => {
    while (!pattern.test(text)) await new Promise((resolve) => setTimeout(resolve, 10));
  };
  await until(/^220 /m);
  raw.write("EHLO reload.example\r\n");
  await until(/^250 /m);
  raw.write("STARTTLS\r\n");
  await until(/^220 2\.0\.0/m);
  raw.removeAllListeners("data");
  const secure = tls.connect({ socket: raw, rejectUnauthorized: false });
  await new Promise<void>((resolve, reject) => {
    secure.once("secureConnect", resolve);
    secure.once("error", reject);
  });
  const name = String(secure.getPeerCertificate().subject.CN);
  secure.destroy();
  return name;
}

async function eventually(read: () => Promise<string>, want: string, timeoutMs = 15_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const got = await read();
    if (got === want || Date.now() > deadline) return got;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

describe("certificate files replaced on disk", () => {
  it("new connections get the new certificate; a certificate without its key is not taken", async () => {
    expect(await implicitName()).toBe("first.test");
    expect(await starttlsName()).toBe("first.test");

    // Only the certificate so far: it does not match the key, so the old pair stays.
    replace(certFile, file("second.test.pem"));
    expect(() => listener.reloadCertificate()).toThrow();
    expect(await implicitName()).toBe("first.test");

    // The key follows: the watcher picks the pair up, no SIGHUP, no restart.
    replace(keyFile, file("second.test.key"));
    expect(await eventually(implicitName, "second.test")).toBe("second.test");
    expect(await starttlsName()).toBe("second.test");
    expect(listener.certificate.certFile).toBe(certFile);
  }, 30_000);
});
