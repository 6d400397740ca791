// The SMTP listener's certificate: the files smtpd_tls_cert_file / smtpd_tls_key_file name (PEM,
// as Postfix reads them; the key may sit in the certificate file), or else a self-signed one for
// local use, made with openssl at first start under <dataDir>/tls and reused after that.
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync } from "node:fs";
import path from "node:path";
import tls from "node:tls";

export interface SmtpCertificateConfig {
  dataDir: string;
  /** smtpd_tls_cert_file; empty or absent: the self-signed certificate. */
  certFile?: string | undefined;
  /** smtpd_tls_key_file; default: the certificate file (Postfix's $smtpd_tls_cert_file). */
  keyFile?: string | undefined;
  /** The name the self-signed certificate carries besides localhost (myhostname). */
  hostname?: string;
}

export interface SmtpCertificate {
  certFile: string;
  keyFile: string;
  /** Whether Postern made it (nobody will verify it: for local use only). */
  selfSigned: boolean;
  key: Buffer;
  cert: Buffer;
}

export const SELF_SIGNED_DIR = "tls";

/** Reads the certificate and key, generating the self-signed pair first when needed. */
export function loadSmtpCertificate(config: SmtpCertificateConfig): SmtpCertificate {
  let certFile = config.certFile?.trim() || "";
  let keyFile = config.keyFile?.trim() || certFile;
  const selfSigned = certFile === "";
  if (selfSigned) {
    ({ certFile, keyFile } = selfSignedCertificate(config.dataDir, config.hostname ?? "localhost"));
  }
  const certificate = {
    certFile,
    keyFile,
    selfSigned,
    cert: readFileSync(certFile),
    key: readFileSync(keyFile),
  };
  // Fail at start (or reload) rather than at the first STARTTLS.
  tls.createSecureContext({ key: certificate.key, cert: certificate.cert });
  return certificate;
}

function selfSignedCertificate(dataDir: string, hostname: string): { certFile: string; keyFile: string } {
  const dir = path.join(dataDir, SELF_SIGNED_DIR);
  const certFile = path.join(dir, "smtpd-cert.pem");
  const keyFile = path.join(dir, "smtpd-key.pem");
  if (existsSync(certFile) && existsSync(keyFile)) return { certFile, keyFile };
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  // Made in a scratch folder and moved in: a crash never leaves a key without its certificate.
  const work = mkdtempSync(path.join(dir, ".tmp-"));
  try {
    const names = [...new Set(["localhost", hostname])].filter((name) => /^[A-Za-z0-9.-]+$/.test(name));
    const san = [...names.map((name) => `DNS:${name}`), "IP:127.0.0.1", "IP:::1"].join(",");
    // biome-ignore format: option/value pairs read better side by side
    execFileSync("openssl", [
      "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
      "-keyout", path.join(work, "key.pem"), "-out", path.join(work, "cert.pem"),
      "-days", "3650", "-sha256", "-subj", `/O=Postern/CN=${names.at(-1) ?? "localhost"}`,
      "-addext", `subjectAltName=${san}`,
      "-addext", "basicConstraints=critical,CA:FALSE",
      "-addext", "extendedKeyUsage=serverAuth",
    ], { stdio: ["ignore", "ignore", "pipe"] });
    renameSync(path.join(work, "key.pem"), keyFile);
    renameSync(path.join(work, "cert.pem"), certFile);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  return { certFile, keyFile };
}
