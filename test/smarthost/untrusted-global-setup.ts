// Global setup of the "workers" project: an SMTP server (smtp-server) whose STARTTLS certificate is
// self-signed, so no trust store vouches for it. It shows what smtp_tls_security_level means on
// Workers, where connect() always verifies. Its port reaches the tests as env.TEST_UNTRUSTED_SMARTHOST.
import { once } from "node:events";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { SMTPServer } from "smtp-server";
import type { TestProject } from "vitest/node";
import { selfSignedCertificate } from "../postfix/postfix-process.ts";

declare module "vitest" {
  export interface ProvidedContext {
    untrustedSmarthost: string;
  }
}

export default async function setup({ provide }: TestProject): Promise<() => Promise<void>> {
  const dir = mkdtempSync(path.join(tmpdir(), "postern-untrusted-"));
  const { certFile, keyFile } = selfSignedCertificate(dir);
  const server = new SMTPServer({
    name: "untrusted.smarthost.test",
    logger: false,
    key: readFileSync(keyFile),
    cert: readFileSync(certFile),
    // Credentials in the clear would be taken: Postern must be the one that refuses to send them.
    allowInsecureAuth: true,
    authMethods: ["PLAIN", "LOGIN"],
    authOptional: true,
    closeTimeout: 100,
    onAuth: (_auth, _session, callback) => callback(null, { user: "relay" }),
    onData: (stream, _session, callback) => {
      stream.resume();
      stream.on("end", () => callback(null));
    },
  });
  server.on("error", () => {});
  server.listen(0, "127.0.0.1");
  await once(server.server, "listening");
  provide("untrustedSmarthost", String((server.server.address() as AddressInfo).port));
  return async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
    rmSync(dir, { recursive: true, force: true });
  };
}
