// A private Postfix instance (Debian's postfix) for interop tests: its own config_directory,
// queue_directory and data_directory under a temp dir, an smtpd on a free loopback port, its log
// in a file (maillog_file), started and stopped with `postfix -c DIR`. /etc/postfix is never
// touched. Postfix's master needs root (it drops to the postfix user for its daemons).
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
import { tmpdir, userInfo } from "node:os";
import path from "node:path";

export const POSTFIX = "/usr/sbin/postfix";

export interface PostfixInstance {
  dir: string;
  configDir: string;
  /** The loopback port of its smtpd (mynetworks = 127.0.0.0/8 may relay through it). */
  port: number;
  /** Its mail log so far. */
  log(): string;
  /** Waits until the log matches (Postfix reports each delivery there). */
  waitForLog(pattern: RegExp, timeoutMs?: number): Promise<RegExpExecArray>;
  /** `postconf -c DIR -e name=value ...`, then `postfix reload`. */
  reconfigure(mainCf: Record<string, string>): void;
  stop(): Promise<void>;
}

/** Fails with the command to run when Postfix (or root) is missing: the suite must not silently skip. */
export function requirePostfix(): void {
  if (!existsSync(POSTFIX)) {
    throw new Error(
      "Postfix is not installed: the Postfix interop test relays through a real one. " +
        "apt-get install postfix libsasl2-modules (with debconf's postfix/main_mailer_type = No configuration).",
    );
  }
  if (process.getuid?.() !== 0)
    throw new Error(`Postfix's master must start as root (running as ${userInfo().username})`);
}

/** Master services a relaying instance needs (no local delivery, no pickup from sendmail). */
const MASTER_CF = (port: number) => `127.0.0.1:${port} inet n - n - - smtpd
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
tlsmgr    unix  -       -       n       1000?   1       tlsmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
smtp      unix  -       -       n       -       -       smtp
relay     unix  -       -       n       -       -       smtp
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
`;

export interface PostfixOptions {
  port: number;
  /** main.cf lines beyond the instance's own (relayhost, smtp_sasl_*, smtp_tls_* ...). */
  mainCf: Record<string, string>;
  /** Extra files in the config directory (lookup tables), name → content. */
  files?: Record<string, string>;
}

export async function startPostfix(options: PostfixOptions): Promise<PostfixInstance> {
  requirePostfix();
  const dir = mkdtempSync(path.join(tmpdir(), "postern-postfix-"));
  chmodSync(dir, 0o755);
  const configDir = path.join(dir, "etc");
  const dataDir = path.join(dir, "data");
  for (const sub of [configDir, path.join(dir, "queue"), dataDir]) mkdirSync(sub, { recursive: true });
  chownSync(dataDir, uid("postfix"), gid("postfix"));
  const logFile = path.join(dir, "maillog");
  const main: Record<string, string> = {
    compatibility_level: "3.6",
    queue_directory: path.join(dir, "queue"),
    data_directory: dataDir,
    maillog_file: logFile,
    maillog_file_prefixes: dir,
    myhostname: "postfix.test",
    mydestination: "",
    alias_maps: "",
    alias_database: "",
    inet_interfaces: "127.0.0.1",
    inet_protocols: "ipv4",
    mynetworks: "127.0.0.0/8",
    smtpd_relay_restrictions: "permit_mynetworks, reject",
    ...options.mainCf,
  };
  writeFileSync(
    path.join(configDir, "main.cf"),
    Object.entries(main)
      .map(([name, value]) => `${name} = ${value}\n`)
      .join(""),
  );
  writeFileSync(path.join(configDir, "master.cf"), MASTER_CF(options.port));
  for (const [name, content] of Object.entries(options.files ?? {})) {
    writeFileSync(path.join(configDir, name), content, { mode: 0o600 });
  }
  const postfix = (command: string) => {
    try {
      // Postfix writes its own errors to stderr only on a terminal; the log file has the rest.
      execFileSync(POSTFIX, ["-c", configDir, command], { stdio: ["ignore", "pipe", "pipe"] });
    } catch (error) {
      const log = existsSync(logFile) ? readFileSync(logFile, "utf8") : "";
      throw new Error(`postfix -c ${configDir} ${command} failed: ${(error as Error).message}\n${log}`);
    }
  };
  postfix("start");
  const log = () => (existsSync(logFile) ? readFileSync(logFile, "utf8") : "");
  return {
    dir,
    configDir,
    port: options.port,
    log,
    async waitForLog(pattern, timeoutMs = 20_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const match = pattern.exec(log());
        if (match) return match;
        if (Date.now() > deadline) throw new Error(`Postfix never logged ${pattern}:\n${log().slice(-4000)}`);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    },
    reconfigure(mainCf) {
      const pairs = Object.entries(mainCf).map(([name, value]) => `${name}=${value}`);
      execFileSync("/usr/sbin/postconf", ["-c", configDir, "-e", ...pairs], {
        stdio: ["ignore", "pipe", "pipe"],
      });
      postfix("reload");
    },
    async stop() {
      try {
        const pidFile = path.join(dir, "queue", "pid", "master.pid");
        const master = existsSync(pidFile) ? Number(readFileSync(pidFile, "utf8").trim()) : 0;
        postfix("stop");
        // `postfix stop` signals the master and returns; wait for it to be gone.
        const deadline = Date.now() + 10_000;
        while (master > 0 && existsSync(`/proc/${master}`) && Date.now() < deadline) {
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}

function uid(user: string): number {
  return Number(execFileSync("id", ["-u", user], { encoding: "utf8" }).trim());
}

function gid(user: string): number {
  return Number(execFileSync("id", ["-g", user], { encoding: "utf8" }).trim());
}
