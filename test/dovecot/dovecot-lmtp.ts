// A private Dovecot LMTP server (Debian's dovecot-lmtpd) for the LMTP next-hop tests: its own
// base_dir and config in a temp dir, an inet listener on a free port and a UNIX listener, maildirs
// under the temp dir, users from a passwd-file. bob@lmtp.test has a 1-byte quota, so after DATA
// Dovecot answers 250 for alice and 552 for bob: one reply per recipient (RFC 2033 §4.2).
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import {
  chmodSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import net from "node:net";
import { tmpdir, userInfo } from "node:os";
import path from "node:path";
import { DOVECOT, freePort, requireDovecot } from "./dovecot-process.ts";

export const DOVECOT_LMTP = "/usr/lib/dovecot/lmtp";

export interface RunningLmtp {
  port: number;
  socketPath: string;
  /** Messages in a user's maildir (new/), as text. */
  mailbox(user: string): string[];
  log(): string;
  remove(): Promise<void>;
}

export function requireDovecotLmtp(): void {
  requireDovecot();
  if (!existsSync(DOVECOT_LMTP)) {
    throw new Error(`Dovecot LMTP is not installed (${DOVECOT_LMTP}): apt-get install dovecot-lmtpd`);
  }
}

function ids(): { uid: number; gid: number; users: string } {
  if (process.getuid?.() === 0) {
    return {
      uid: 65534,
      gid: 65534,
      users: "default_internal_user = dovecot\ndefault_login_user = dovenull\n",
    };
  }
  const me = userInfo();
  return {
    uid: me.uid,
    gid: me.gid,
    users:
      `default_internal_user = ${me.username}\ndefault_login_user = ${me.username}\n` +
      "service anvil {\n  chroot =\n}\n",
  };
}

export async function startDovecotLmtp(): Promise<RunningLmtp> {
  requireDovecotLmtp();
  const dir = mkdtempSync(path.join(tmpdir(), "postern-lmtp-"));
  chmodSync(dir, 0o777);
  const port = await freePort();
  const { uid, gid, users } = ids();
  const home = (user: string) => path.join(dir, "home", user);
  writeFileSync(
    path.join(dir, "users"),
    `alice@lmtp.test::${uid}:${gid}::${home("alice@lmtp.test")}::\n` +
      `bob@lmtp.test::${uid}:${gid}::${home("bob@lmtp.test")}::userdb_quota_rule=*:storage=1B\n`,
  );
  chmodSync(path.join(dir, "users"), 0o644);
  const socketPath = path.join(dir, "lmtp");
  const config = `# Postern's LMTP test server; see test/dovecot/dovecot-lmtp.ts
protocols = lmtp
base_dir = ${dir}/run
state_dir = ${dir}/state
log_path = ${dir}/dovecot.log
instance_name = postern-lmtp-${port}
ssl = no
${users}first_valid_uid = 1
mail_location = maildir:~/Maildir
mail_plugins = quota
plugin {
  quota = maildir:User quota
}
# Only userdb lookups are made (LMTP does not authenticate); auth still wants a passdb.
passdb {
  driver = passwd-file
  args = ${dir}/users
}
userdb {
  driver = passwd-file
  args = ${dir}/users
}
service lmtp {
  inet_listener lmtp {
    address = 127.0.0.1
    port = ${port}
  }
  unix_listener ${socketPath} {
    mode = 0666
  }
}
`;
  const configFile = path.join(dir, "dovecot.conf");
  writeFileSync(configFile, config);
  const logFile = path.join(dir, "dovecot.log");
  const log = () => (existsSync(logFile) ? readFileSync(logFile, "utf8").slice(-4000) : "(no log)");
  const child: ChildProcess = spawn(DOVECOT, ["-F", "-c", configFile], { stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  child.stdout?.setEncoding("utf8").on("data", (c: string) => {
    output += c;
  });
  child.stderr?.setEncoding("utf8").on("data", (c: string) => {
    output += c;
  });
  const exited = once(child, "exit");
  const deadline = Date.now() + 10_000;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`dovecot (lmtp) exited at start:\n${output}\n${log()}`);
    }
    if (existsSync(socketPath) && (await accepts(port))) break;
    if (Date.now() > deadline) {
      child.kill("SIGKILL");
      throw new Error(`dovecot (lmtp) did not listen in time:\n${output}\n${log()}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return {
    port,
    socketPath,
    log,
    mailbox(user) {
      const folder = path.join(home(user), "Maildir", "new");
      if (!existsSync(folder)) return [];
      return readdirSync(folder)
        .sort()
        .map((name) => readFileSync(path.join(folder, name), "utf8"));
    },
    async remove() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill("SIGTERM");
        const timer = setTimeout(() => child.kill("SIGKILL"), 5_000);
        await exited;
        clearTimeout(timer);
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, "127.0.0.1");
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}
