// A Dovecot auth service (Debian's dovecot-core) that takes OAUTHBEARER and XOAUTH2 and checks
// each bearer token at an OAuth 2.0 introspection endpoint (RFC 7662) of the test's own: Postfix
// with smtpd_sasl_type = dovecot in front of it is an OAuth2 smarthost no one here wrote.
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import net from "node:net";
import { tmpdir, userInfo } from "node:os";
import path from "node:path";
import { DOVECOT, freePort, requireDovecot } from "../dovecot/dovecot-process.ts";

export interface RunningOAuth2Dovecot {
  port: number;
  log(): string;
  stop(): Promise<void>;
}

export async function startOAuth2Dovecot(introspectionUrl: string): Promise<RunningOAuth2Dovecot> {
  requireDovecot();
  const dir = mkdtempSync(path.join(tmpdir(), "postern-dovecot-oauth2-"));
  chmodSync(dir, 0o755);
  mkdirSync(path.join(dir, "state"));
  const port = await freePort();
  writeFileSync(
    path.join(dir, "oauth2.conf.ext"),
    `introspection_mode = post
introspection_url = ${introspectionUrl}
username_attribute = username
active_attribute = active
active_value = true
`,
  );
  const root = process.getuid?.() === 0;
  const user = userInfo().username;
  writeFileSync(
    path.join(dir, "dovecot.conf"),
    `protocols =
base_dir = ${dir}/run
state_dir = ${dir}/state
log_path = ${dir}/dovecot.log
instance_name = postern-oauth2-${port}
ssl = no
disable_plaintext_auth = no
auth_mechanisms = oauthbearer xoauth2
auth_failure_delay = 0
${root ? "default_internal_user = dovecot\ndefault_login_user = dovenull" : `default_internal_user = ${user}\ndefault_login_user = ${user}\nservice anvil {\n  chroot =\n}`}
passdb {
  driver = oauth2
  mechanisms = xoauth2 oauthbearer
  args = ${dir}/oauth2.conf.ext
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
