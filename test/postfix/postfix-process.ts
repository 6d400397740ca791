// A private Postfix (Debian's postfix package) for the relay client's tests: its own
// config_directory, queue_directory and data_directory in a temp dir, submission listeners on free
// ports, SASL through a Dovecot auth service (smtpd_sasl_type = dovecot over inet:), accepted mail
// discarded. Started with `postfix -c DIR start`, stopped with `postfix -c DIR stop`.
import { execFileSync } from "node:child_process";
import {
  chmodSync,
  chownSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { freePort } from "../dovecot/dovecot-process.ts";

export const POSTFIX = process.env.POSTERN_POSTFIX ?? "/usr/sbin/postfix";

export interface PostfixListener {
  /** master.cf `-o name=value` overrides of this listener. */
  options?: Record<string, string>;
}

export interface RunningPostfix {
  dir: string;
  /** The port of each listener, by the name it was given. */
  ports: Record<string, number>;
  /** Postfix's maillog_file. */
  log(): string;
  /** Whether the log shows `text` within a few seconds (postlogd writes it a little after the reply). */
  logged(text: string | RegExp, timeoutMs?: number): Promise<boolean>;
  stop(): Promise<void>;
}

/** Fails with the command to run when Postfix is missing: the suite must not silently skip. */
export function requirePostfix(): void {
  if (!existsSync(POSTFIX)) {
    throw new Error(
      `Postfix is not installed (${POSTFIX} not found). The relay client tests need a real Postfix: ` +
        "apt-get install postfix (preseed postfix/main_mailer_type = No configuration).",
    );
  }
  if (process.getuid?.() !== 0)
    throw new Error("a private Postfix instance needs root (postfix -c DIR start)");
}

const SERVICES = `cleanup unix n - n - 0 cleanup
qmgr unix n - n 300 1 qmgr
tlsmgr unix - - n 1000? 1 tlsmgr
rewrite unix - - n - - trivial-rewrite
bounce unix - - n - 0 bounce
defer unix - - n - 0 bounce
trace unix - - n - 0 bounce
verify unix - - n - 1 verify
flush unix n - n 1000? 0 flush
proxymap unix - - n - - proxymap
showq unix n - n - - showq
error unix - - n - - error
retry unix - - n - - error
discard unix - - n - - discard
anvil unix - - n - 1 anvil
scache unix - - n - 1 scache
postlog unix-dgram n - n - 1 postlogd
`;

export async function startPostfix(options: {
  /** inet:host:port of the Dovecot auth service. */
  saslPath: string;
  certFile: string;
  keyFile: string;
  listeners: Record<string, PostfixListener>;
  /** Extra main.cf lines. */
  mainCf?: string;
}): Promise<RunningPostfix> {
  requirePostfix();
  const dir = mkdtempSync(path.join(tmpdir(), "postern-postfix-"));
  // Postfix's daemons run as the postfix user and must reach the queue below it.
  chmodSync(dir, 0o755);
  const etc = path.join(dir, "etc");
  const data = path.join(dir, "data");
  mkdirSync(etc);
  mkdirSync(data);
  // postfix start makes the queue's subdirectories, not the queue directory itself.
  mkdirSync(path.join(dir, "spool"));
  // master takes its lock here as the mail_owner.
  chownSync(data, Number(execFileSync("id", ["-u", "postfix"], { encoding: "utf8" })), 0);
  const logFile = path.join(dir, "maillog");
  writeFileSync(
    path.join(etc, "main.cf"),
    `compatibility_level = 3.6
queue_directory = ${dir}/spool
data_directory = ${data}
maillog_file = ${logFile}
maillog_file_prefixes = ${dir}
myhostname = postfix.test
mydestination =
alias_maps =
alias_database =
local_recipient_maps =
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
disable_dns_lookups = yes
smtp_dns_support_level = disabled
smtpd_peername_lookup = no
default_transport = discard
relay_transport = discard
smtpd_sasl_auth_enable = yes
smtpd_sasl_type = dovecot
smtpd_sasl_path = ${options.saslPath}
smtpd_sasl_security_options = noanonymous
smtpd_sasl_tls_security_options = noanonymous
smtpd_relay_restrictions = permit_sasl_authenticated, reject
smtpd_tls_cert_file = ${options.certFile}
smtpd_tls_key_file = ${options.keyFile}
smtpd_tls_security_level = may
smtpd_tls_auth_only = no
${options.mainCf ?? ""}
`,
  );
  const ports: Record<string, number> = {};
  let master = "";
  for (const [name, listener] of Object.entries(options.listeners)) {
    ports[name] = await freePort();
    const overrides = Object.entries(listener.options ?? {})
      .map(([key, value]) => `\n  -o ${key}=${value}`)
      .join("");
    master += `127.0.0.1:${ports[name]} inet n - n - - smtpd${overrides}\n`;
  }
  writeFileSync(path.join(etc, "master.cf"), master + SERVICES);
  const log = () => (existsSync(logFile) ? readFileSync(logFile, "utf8") : "(no log)");
  const postfix = (command: string) =>
    execFileSync(POSTFIX, ["-c", etc, command], { stdio: ["ignore", "pipe", "pipe"], encoding: "utf8" });
  try {
    postfix("start");
  } catch (error) {
    const why = `postfix -c ${etc} start failed: ${(error as Error).message}\n${log()}`;
    rmSync(dir, { recursive: true, force: true });
    throw new Error(why);
  }
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    try {
      postfix("stop");
    } catch {
      // already stopped
    }
    rmSync(dir, { recursive: true, force: true });
  };
  // If the test run dies, take Postfix with it.
  process.once("exit", () => {
    if (!stopped) execFileSync(POSTFIX, ["-c", etc, "stop"], { stdio: "ignore" });
  });
  for (const port of Object.values(ports)) await waitForListener(port, 10_000, log);
  const logged = async (text: string | RegExp, timeoutMs = 5_000) => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = typeof text === "string" ? log().includes(text) : text.test(log());
      if (found || Date.now() > deadline) return found;
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  };
  return { dir, ports, log, logged, stop };
}

async function waitForListener(port: number, timeoutMs: number, log: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const socket = net.connect(port, "127.0.0.1");
      socket.once("connect", () => {
        socket.destroy();
        resolve(true);
      });
      socket.once("error", () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`postfix did not listen on ${port}:\n${log()}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** A self-signed certificate for 127.0.0.1 that no CA vouches for (verify must refuse it). */
export function selfSignedCertificate(dir: string): { certFile: string; keyFile: string } {
  const certFile = path.join(dir, "self-signed.pem");
  const keyFile = path.join(dir, "self-signed-key.pem");
  // biome-ignore format: option/value pairs read better side by side
  execFileSync("openssl", [
    "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
    "-keyout", keyFile, "-out", certFile, "-days", "30", "-subj", "/CN=self-signed.test",
    "-addext", "subjectAltName=DNS:self-signed.test,IP:127.0.0.1",
  ], { stdio: ["ignore", "ignore", "pipe"] });
  return { certFile, keyFile };
}
