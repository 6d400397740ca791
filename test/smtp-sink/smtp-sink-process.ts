// Postfix's smtp-sink (Debian package postfix) as a test server started by the tests: a private
// process on a free 127.0.0.1 port with its fault options (-Q 421 and disconnect, -q disconnect,
// -r 4xx, -f 5xx, -W delay, -L LMTP) and each mail transaction dumped to its own file (-d).
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";

export const SMTP_SINK = process.env.POSTERN_SMTP_SINK ?? "/usr/sbin/smtp-sink";

export interface RunningSink {
  port: number;
  /** `[127.0.0.1]:port`, ready for relayhost. */
  hop: string;
  /** The dumped transactions, oldest first (smtp-sink's dump format: envelope lines, then the message). */
  transactions(): string[];
  stop(): Promise<void>;
}

export function requireSmtpSink(): void {
  if (!existsSync(SMTP_SINK)) {
    throw new Error(
      `smtp-sink is not installed (${SMTP_SINK}): apt-get install postfix, or set POSTERN_SMTP_SINK.`,
    );
  }
}

async function freePort(): Promise<number> {
  const probe = net.createServer().listen(0, "127.0.0.1");
  await once(probe, "listening");
  const { port } = probe.address() as net.AddressInfo;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}

async function listening(port: number, child: ChildProcess, deadline: number): Promise<void> {
  for (;;) {
    if (child.exitCode !== null) throw new Error(`smtp-sink exited with ${child.exitCode}`);
    const ok = await new Promise<boolean>((resolve) => {
      const socket = net.connect(port, "127.0.0.1");
      socket.once("connect", () => {
        socket.destroy();
        resolve(true);
      });
      socket.once("error", () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`smtp-sink did not listen on ${port}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/** `options`: smtp-sink flags before the address, e.g. ["-Q", "rcpt"] or ["-L"]. */
export async function startSmtpSink(options: string[] = []): Promise<RunningSink> {
  requireSmtpSink();
  const dir = mkdtempSync(path.join(tmpdir(), "postern-sink-"));
  chmodSync(dir, 0o777);
  const port = await freePort();
  const asRoot = process.getuid?.() === 0 ? ["-u", "nobody"] : [];
  const child = spawn(SMTP_SINK, [...asRoot, "-d", `${dir}/%H%M%S.`, ...options, `127.0.0.1:${port}`, "64"], {
    stdio: ["ignore", "ignore", "pipe"],
  });
  let stderr = "";
  child.stderr?.setEncoding("utf8").on("data", (chunk: string) => {
    stderr = (stderr + chunk).slice(-8192);
  });
  try {
    await listening(port, child, Date.now() + 10_000);
  } catch (error) {
    child.kill("SIGKILL");
    throw new Error(`${(error as Error).message}\n${stderr}`);
  }
  return {
    port,
    hop: `[127.0.0.1]:${port}`,
    transactions() {
      return readdirSync(dir)
        .sort()
        .map((name) => readFileSync(path.join(dir, name), "latin1"));
    },
    async stop() {
      if (child.exitCode === null) {
        child.kill("SIGTERM");
        await once(child, "exit");
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface DumpedTransaction {
  /** MAIL FROM arguments as sent, e.g. `<a@b.example> SIZE=123 BODY=8BITMIME`. */
  mailArgs: string;
  mailFrom: string;
  rcptTo: string[];
  /** The message after smtp-sink's own Received: line. */
  message: string;
}

/** smtp-sink's dump format: X-* envelope lines, its Received: header, then the message. */
export function parseDump(dump: string): DumpedTransaction {
  const header = (name: string) =>
    [...dump.matchAll(new RegExp(`^${name}: (.*)$`, "gm"))].map((m) => m[1]!.replace(/\r$/, ""));
  const mailArgs = header("X-Mail-Args")[0] ?? "";
  const received = dump.search(/^Received: from .*\n\tby smtp-sink .*\n\t.*\n/m);
  const afterReceived = received < 0 ? dump : dump.slice(received).replace(/^Received:.*\n\t.*\n\t.*\n/, "");
  return {
    mailArgs,
    mailFrom: /^<([^>]*)>/.exec(mailArgs)?.[1] ?? "",
    rcptTo: header("X-Rcpt-Args").map((a) => /^<([^>]*)>/.exec(a)?.[1] ?? a),
    message: afterReceived,
  };
}
