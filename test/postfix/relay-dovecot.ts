// Dovecot auth services (Debian's dovecot-core) for what the shared test Dovecot does not offer:
// OAUTHBEARER and XOAUTH2 with each bearer token checked at an OAuth 2.0 introspection endpoint
// (RFC 7662) of the test's own, and DIGEST-MD5. Postfix with smtpd_sasl_type = dovecot in front of
// them is a smarthost no one here wrote.
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import net from "node:net";
import { tmpdir, userInfo } from "node:os";
import path from "node:path";
import { DOVECOT, freePort, requireDovecot } from "../dovecot/dovecot-process.ts";

export interface RunningRelayDovecot {
  port: number;
  log(): string;
  stop(): Promise<void>;
}

/** Bearer tokens (OAUTHBEARER, XOAUTH2) checked at `introspectionUrl` (RFC 7662, POST). */
export function startOAuth2Dovecot(introspectionUrl: string): Promise<RunningRelayDovecot> {
  return startAuthDovecot({
    mechanisms: "oauthbearer xoauth2",
    files: {
      "oauth2.conf.ext": `introspection_mode = post
introspection_url = ${introspectionUrl}
username_attribute = username
active_attribute = active
active_value = true
`,
    },
    passdb: (dir) => `driver = oauth2\n  mechanisms = xoauth2 oauthbearer\n  args = ${dir}/oauth2.conf.ext`,
  });
}

/** DIGEST-MD5 (which the shared test Dovecot does not offer) over a passwd-file of plaintext passwords. */
export function startDigestDovecot(passwd: string, realm: string): Promise<RunningRelayDovecot> {
  return startAuthDovecot({
    mechanisms: "digest-md5",
    extra: `auth_realms = ${realm}\nauth_default_realm = ${realm}\n`,
    files: { "users.passwd": passwd },
    passdb: (dir) => `driver = passwd-file\n  args = scheme=PLAIN username_format=%n ${dir}/users.passwd`,
  });
}

async function startAuthDovecot(options: {
  mechanisms: string;
  files: Record<string, string>;
  passdb: (dir: string) => string;
  extra?: string;
}): Promise<RunningRelayDovecot> {
  requireDovecot();
  const dir = mkdtempSync(path.join(tmpdir(), "postern-dovecot-relay-"));
  chmodSync(dir, 0o755);
  mkdirSync(path.join(dir, "state"));
  const port = await freePort();
  for (const [name, text] of Object.entries(options.files)) {
    writeFileSync(path.join(dir, name), text);
    chmodSync(path.join(dir, name), 0o644);
  }
  const root = process.getuid?.() === 0;
  const user = userInfo().username;
  writeFileSync(
    path.join(dir, "dovecot.conf"),
    `protocols =
base_dir = ${dir}/run
state_dir = ${dir}/state
log_path = ${dir}/dovecot.log
instance_name = postern-relay-${port}
ssl = no
disable_plaintext_auth = no
auth_mechanisms = ${options.mechanisms}
auth_failure_delay = 0
${options.extra ?? ""}${root ? "default_internal_user = dovecot\ndefault_login_user = dovenull" : `default_internal_user = ${user}\ndefault_login_user = ${user}\nservice anvil {\n  chroot =\n}`}
passdb {
  ${options.passdb(dir)}
}
service auth {
  inet_listener {
    address = 127.0.0.1
    port = ${port}
  }
}
`,
  );
  const logFile = path.join(dir, "dovecot.log");
  const log = () => (existsSync(logFile) ? readFileSync(logFile, "utf8") : "(no log)");
  const child: ChildProcess = spawn(DOVECOT, ["-F", "-c", path.join(dir, "dovecot.conf")], {
    stdio: "ignore",
  });
  const exited = once(child, "exit");
  const kill = () => child.kill("SIGKILL");
  process.once("exit", kill);
  const deadline = Date.now() + 10_000;
  while (!(await accepts(port))) {
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill("SIGKILL");
      throw new Error(`OAuth2 Dovecot did not start:\n${log()}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return {
    port,
    log,
    async stop() {
      process.off("exit", kill);
      if (child.exitCode === null) {
        child.kill("SIGTERM");
        const timer = setTimeout(() => child.kill("SIGKILL"), 5_000);
        await exited;
        clearTimeout(timer);
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, "127.0.0.1");
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}
