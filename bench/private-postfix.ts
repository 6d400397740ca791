// A private Postfix instance for the relay benchmark: its own config_directory, queue_directory and
// data_directory in a temp folder, an smtpd on a free 127.0.0.1 port, relayhost = the sink. The
// machine's /etc/postfix (the anchor) is neither read for settings nor changed. Needs root (Postfix
// starts as root and drops to mail_owner), as on the benchmark machine.
import { execFileSync } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";

export interface PrivatePostfix {
  port: number;
  configDirectory: string;
  /** postconf -c dir -e name=value ...; then postfix reload. */
  set(values: Record<string, string>): void;
  /** postqueue -f */
  flush(): void;
  /** Messages in the queue (postqueue -j). */
  queued(): number;
  stop(): void;
}

const MASTER_CF = (port: number) => `# Postern relay benchmark: a minimal master.cf
127.0.0.1:${port} inet n - n - - smtpd
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
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
local     unix  -       n       n       -       -       local
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
`;

export function startPrivatePostfix(port: number, relayhost: string): PrivatePostfix {
  const root = mkdtempSync(path.join(tmpdir(), "postern-postfix-"));
  chmodSync(root, 0o755);
  const config = path.join(root, "etc");
  mkdirSync(config);
  mkdirSync(path.join(root, "queue"));
  mkdirSync(path.join(root, "data"));
  execFileSync("chown", ["postfix", path.join(root, "data")]);
  const mainCf = {
    compatibility_level: "3.6",
    queue_directory: path.join(root, "queue"),
    data_directory: path.join(root, "data"),
    mail_owner: "postfix",
    setgid_group: "postdrop",
    myhostname: "anchor.postfix.test",
    mydestination: "",
    inet_interfaces: "127.0.0.1",
    inet_protocols: "ipv4",
    mynetworks: "127.0.0.0/8",
    smtpd_relay_restrictions: "permit_mynetworks, reject",
    relayhost,
    alias_maps: "",
    alias_database: "",
    local_recipient_maps: "",
    smtputf8_enable: "no",
    // The backlog waits here until the benchmark flushes it.
    defer_transports: "smtp",
  };
  writeFileSync(
    path.join(config, "main.cf"),
    Object.entries(mainCf)
      .map(([k, v]) => `${k} = ${v}\n`)
      .join(""),
  );
  writeFileSync(path.join(config, "master.cf"), MASTER_CF(port));
  const run = (command: string, args: string[]) =>
    execFileSync(command, args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
  run("postfix", ["-c", config, "check"]);
  run("postfix", ["-c", config, "start"]);
  return {
    port,
    configDirectory: config,
    set(values) {
      run("postconf", ["-c", config, "-e", ...Object.entries(values).map(([k, v]) => `${k}=${v}`)]);
      run("postfix", ["-c", config, "reload"]);
    },
    flush() {
      run("postqueue", ["-c", config, "-f"]);
    },
    queued() {
      const out = run("postqueue", ["-c", config, "-j"]);
      return out.split("\n").filter((l) => l.trim() !== "").length;
    },
    stop() {
      try {
        run("postfix", ["-c", config, "stop"]);
      } catch {
        // already stopped
      }
      rmSync(root, { recursive: true, force: true });
    },
  };
}
