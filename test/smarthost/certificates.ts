// A private test CA and a localhost server certificate for the test smarthost. workerd (BoringSSL)
// only trusts the CA through NODE_EXTRA_CA_CERTS and is strict about extensions, so both carry
// explicit ones from our own openssl config instead of whatever the system openssl.cnf adds.
import { execFileSync } from "node:child_process";
import { createPrivateKey, X509Certificate } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";

export interface TestCertificates {
  dir: string;
  caFile: string;
  certFile: string;
  keyFile: string;
}

const VALIDITY_DAYS = 3650;
// Regenerate well before expiry so a long-lived checkout or CI cache never hits it mid-run.
const MIN_REMAINING_MS = 30 * 24 * 60 * 60 * 1000;

const OPENSSL_CONFIG = `[req]
distinguished_name = dn
prompt = no
[dn]
CN = unused
[ca]
basicConstraints = critical, CA:TRUE, pathlen:0
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
[leaf]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = DNS:localhost, IP:127.0.0.1, IP:::1
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
`;

export function makeTestCertificates(dir: string): TestCertificates {
  const certificates: TestCertificates = {
    dir,
    caFile: path.join(dir, "ca.pem"),
    certFile: path.join(dir, "server.pem"),
    keyFile: path.join(dir, "server-key.pem"),
  };
  if (stillValid(certificates)) return certificates;
  mkdirSync(dir, { recursive: true });
  // Generate into a scratch dir and move the results in, so a reader never sees a half-made set.
  const work = mkdtempSync(path.join(dir, ".tmp-"));
  try {
    const file = (name: string) => path.join(work, name);
    const openssl = (...args: string[]) =>
      execFileSync("openssl", args, { stdio: ["ignore", "ignore", "pipe"] });
    writeFileSync(file("openssl.cnf"), OPENSSL_CONFIG);
    const days = String(VALIDITY_DAYS);
    openssl("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", file("ca-key.pem"));
    // -extensions also replaces the x509_extensions section the config would otherwise apply.
    // OpenSSL 3.0 has no -not_before, so validity starts now (both hosts share one clock here).
    // biome-ignore format: option/value pairs read better side by side
    openssl(
      "req", "-x509", "-new", "-config", file("openssl.cnf"), "-extensions", "ca",
      "-key", file("ca-key.pem"), "-subj", "/O=Postern tests/CN=Postern Test CA",
      "-sha256", "-days", days, "-out", file("ca.pem"),
    );
    openssl(
      "genpkey",
      "-algorithm",
      "EC",
      "-pkeyopt",
      "ec_paramgen_curve:P-256",
      "-out",
      file("server-key.pem"),
    );
    // biome-ignore format: option/value pairs read better side by side
    openssl(
      "req", "-new", "-config", file("openssl.cnf"), "-key", file("server-key.pem"),
      "-subj", "/O=Postern tests/CN=localhost", "-out", file("server.csr"),
    );
    // biome-ignore format: option/value pairs read better side by side
    openssl(
      "x509", "-req", "-in", file("server.csr"), "-CA", file("ca.pem"), "-CAkey", file("ca-key.pem"),
      "-set_serial", "0x" + Date.now().toString(16), "-sha256", "-days", days,
      "-extfile", file("openssl.cnf"), "-extensions", "leaf", "-out", file("server.pem"),
    );
    // The CA key is not kept: nothing else gets signed, and a fresh set is cheap.
    renameSync(file("server-key.pem"), certificates.keyFile);
    renameSync(file("server.pem"), certificates.certFile);
    renameSync(file("ca.pem"), certificates.caFile);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  if (!stillValid(certificates)) throw new Error(`generated test certificates in ${dir} do not verify`);
  return certificates;
}

// Checked in-process (no openssl spawn) so the common, reuse path stays a few milliseconds.
function stillValid({ caFile, certFile, keyFile }: TestCertificates): boolean {
  if (![caFile, certFile, keyFile].every((file) => existsSync(file))) return false;
  try {
    const ca = new X509Certificate(readFileSync(caFile));
    const leaf = new X509Certificate(readFileSync(certFile));
    const key = createPrivateKey(readFileSync(keyFile));
    const horizon = Date.now() + MIN_REMAINING_MS;
    return (
      ca.ca &&
      Date.parse(ca.validTo) > horizon &&
      Date.parse(leaf.validTo) > horizon &&
      leaf.checkIssued(ca) &&
      leaf.verify(ca.publicKey) &&
      leaf.checkPrivateKey(key) &&
      leaf.checkHost("localhost") !== undefined &&
      leaf.checkIP("127.0.0.1") !== undefined
    );
  } catch {
    return false;
  }
}
