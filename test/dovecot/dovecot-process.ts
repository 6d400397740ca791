// Runs a real Dovecot (Debian's dovecot-core) as an auth-only service for the integration tests:
// a throwaway config in a temp dir, an inet listener on a free port and a UNIX listener, the
// passwd-file fixtures beside this file. As root it drops to the users the package creates
// (dovecot, dovenull); as anyone else it runs as that user.
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { once } from "node:events";
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import net from "node:net";
import { tmpdir, userInfo } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

export const DOVECOT = process.env.POSTERN_DOVECOT ?? "/usr/sbin/dovecot";
const FIXTURES = path.dirname(fileURLToPath(import.meta.url));

export interface RunningDovecot {
  host: "127.0.0.1";
  port: number;
  /** The UNIX-domain auth-client listener. */
  socketPath: string;
  dir: string;
  /** The tail of Dovecot's log, for failure messages. */
  log(): string;
  /** Stops Dovecot (SIGTERM, as `doveadm stop`) and waits for all its processes to be gone. */
  stop(): Promise<void>;
  /** A crash: SIGKILL to the auth process, then the rest stopped. */
  kill(): Promise<void>;
  /** Freezes the auth process (SIGSTOP): connections stay open, nothing is answered. */
  freezeAuth(): void;
  /** Stops it and deletes the temp dir. */
  remove(): Promise<void>;
}

/** Fails with the command to run when Dovecot is missing: the suite must not silently skip. */
export function requireDovecot(): string {
  if (!existsSync(DOVECOT)) {
    throw new Error(
      `Dovecot is not installed (${DOVECOT} not found). The Dovecot SASL integration test needs a real ` +
        "Dovecot auth service: apt-get install dovecot-core (Debian/Ubuntu), or set POSTERN_DOVECOT to the binary.",
    );
  }
  return execFileSync(DOVECOT, ["--version"], { encoding: "utf8" }).trim();
}

export async function freePort(): Promise<number> {
  const probe = net.createServer().listen(0, "127.0.0.1");
  await once(probe, "listening");
  const { port } = probe.address() as net.AddressInfo;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}

/** Who Dovecot's processes run as: its own users under root, else the user running the tests. */
function users(): string {
  if (process.getuid?.() === 0) return "default_internal_user = dovecot\ndefault_login_user = dovenull\n";
  const user = userInfo().username;
  const group = execFileSync("id", ["-gn"], { encoding: "utf8" }).trim();
  return (
    `default_internal_user = ${user}\ndefault_internal_group = ${group}\ndefault_login_user = ${user}\n` +
    // anvil chroots by default, which needs root.
    "service anvil {\n  chroot =\n}\n"
  );
}

function config(dir: string, port: number): string {
  return `# Auth-only Dovecot for Postern's tests; see test/dovecot/dovecot-process.ts
protocols =
base_dir = ${dir}/run
state_dir = ${dir}/state
log_path = ${dir}/dovecot.log
instance_name = postern-test-${port}
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login cram-md5 scram-sha-1 scram-sha-256
# Dovecot delays each failure by 2 s by default (2.3.19 still batches them every 0.5 s).
auth_failure_delay = 0
${users()}passdb {
  driver = passwd-file
  # One file per service: service=smtp reads smtp.passwd; service=broken finds a file it may not
  # read, which Dovecot reports as an internal (temporary) failure: FAIL code=temp_fail.
  args = scheme=PLAIN username_format=%u ${dir}/%s.passwd
}
service auth {
  inet_listener {
    address = 127.0.0.1
    port = ${port}
  }
  unix_listener ${dir}/auth-postern {
    mode = 0666
  }
}
`;
}

const children = new Set<ChildProcess>();
// If the test run dies, take Dovecot with it.
process.once("exit", () => {
  for (const child of children) child.kill("SIGKILL");
});

export async function startDovecot(
  options: { port?: number; dir?: string; timeoutMs?: number } = {},
): Promise<RunningDovecot> {
  requireDovecot();
  const dir = options.dir ?? mkdtempSync(path.join(tmpdir(), "postern-dovecot-"));
  // The auth process runs as "dovecot": it must reach the passwd-file.
  chmodSync(dir, 0o755);
  mkdirSync(path.join(dir, "state"), { recursive: true });
  copyFileSync(path.join(FIXTURES, "smtp.passwd"), path.join(dir, "smtp.passwd"));
  chmodSync(path.join(dir, "smtp.passwd"), 0o644);
  writeFileSync(path.join(dir, "broken.passwd"), "alice:{PLAIN}alice-secret\n");
  chmodSync(path.join(dir, "broken.passwd"), 0o000);
  const port = options.port ?? (await freePort());
  const configFile = path.join(dir, "dovecot.conf");
  writeFileSync(configFile, config(dir, port));
  const logFile = path.join(dir, "dovecot.log");
  const log = () => (existsSync(logFile) ? readFileSync(logFile, "utf8").slice(-4000) : "(no log)");

  // -F: stay in the foreground, so the child is Dovecot's master and SIGTERM stops it.
  const child = spawn(DOVECOT, ["-F", "-c", configFile], { stdio: ["ignore", "pipe", "pipe"] });
  children.add(child);
  let output = "";
  child.stdout?.setEncoding("utf8").on("data", (chunk: string) => {
    output += chunk;
  });
  child.stderr?.setEncoding("utf8").on("data", (chunk: string) => {
    output += chunk;
  });
  const exited = once(child, "exit");
  const socketPath = path.join(dir, "auth-postern");

  const deadline = Date.now() + (options.timeoutMs ?? 10_000);
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      children.delete(child);
      throw new Error(
        `dovecot exited at start (${child.exitCode ?? child.signalCode}):\n${output}\n${log()}`,
      );
    }
    if (existsSync(socketPath) && (await accepts(port))) break;
    if (Date.now() > deadline) {
      child.kill("SIGKILL");
      throw new Error(`dovecot did not listen on 127.0.0.1:${port} in time:\n${output}\n${log()}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }

  const master = child.pid ?? 0;
  const stop = async () => {
    const family = descendants(master);
    if (child.exitCode === null && child.signalCode === null) {
      // The master alone takes a second or more (longer with clients connected) to stop its
      // children; they all stop at once on their own SIGTERM.
      child.kill("SIGTERM");
      for (const { pid } of family) signal(pid, "SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), 5_000);
      await exited;
      clearTimeout(timer);
    }
    children.delete(child);
    // The master does not wait for its children: wait until their sockets are closed too.
    await gone(family, 5_000);
  };
  return {
    host: "127.0.0.1",
    port,
    socketPath,
    dir,
    log,
    stop,
    async kill() {
      // The auth process dies as in a crash; its master (still alive to reap it, so no zombies are
      // left behind) is then stopped, which closes the listeners: nothing answers any more.
      const auth = descendants(master).filter((p) => p.name === "auth");
      for (const { pid } of auth) signal(pid, "SIGKILL");
      await gone(auth, 5_000);
      await stop();
    },
    freezeAuth() {
      const auth = descendants(master).filter((p) => p.name === "auth");
      if (auth.length === 0) throw new Error("no Dovecot auth process running");
      for (const { pid } of auth) signal(pid, "SIGSTOP");
    },
    async remove() {
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

interface Proc {
  pid: number;
  ppid: number;
  name: string;
  state: string;
}

/** /proc/<pid>/stat: "pid (comm) state ppid ...", comm may hold spaces and parentheses. */
function readProc(pid: number): Proc | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const close = stat.lastIndexOf(")");
    const [state = "", ppid = "0"] = stat.slice(close + 2).split(" ");
    return { pid, ppid: Number(ppid), name: stat.slice(stat.indexOf("(") + 1, close), state };
  } catch {
    return null;
  }
}

function descendants(root: number): Proc[] {
  const all = readdirSync("/proc")
    .filter((entry) => /^\d+$/.test(entry))
    .map((entry) => readProc(Number(entry)))
    .filter((proc): proc is Proc => proc !== null);
  const found: Proc[] = [];
  const parents = new Set([root]);
  for (let grew = true; grew; ) {
    grew = false;
    for (const proc of all) {
      if (parents.has(proc.ppid) && !parents.has(proc.pid)) {
        parents.add(proc.pid);
        found.push(proc);
        grew = true;
      }
    }
  }
  return found;
}

function signal(pid: number, name: NodeJS.Signals): void {
  try {
    process.kill(pid, name);
  } catch {
    // already gone
  }
}

/** Waits until none of these processes runs (a zombie holds no sockets), then SIGKILLs stragglers. */
async function gone(processes: Proc[], timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const alive = processes.filter(({ pid }) => {
      const proc = readProc(pid);
      return proc !== null && proc.state !== "Z";
    });
    if (alive.length === 0) return;
    if (Date.now() > deadline) {
      for (const { pid } of alive) signal(pid, "SIGKILL");
      return;
    }
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: "127.0.0.1", port });
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}
