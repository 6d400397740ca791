// Peak memory of Postern's Node runtime while it receives one large message over SMTP (DATA, and
// BDAT in 1 MB chunks). Postern runs as a child process, a fresh one per sample (src/node/main.ts,
// temporary data folder, plaintext AUTH PLAIN allowed as in the SMTP bench, relayhost unreachable
// so no delivery reads the body meanwhile); its peak resident set is read from /proc/<pid>/status (VmHWM) after it was
// reset through /proc/<pid>/clear_refs, so nothing is sampled and no peak is missed. The figure is
// the peak minus the resident set just before the message (VmRSS). The client streams the
// message from a 64 KB pattern and honours backpressure, so it never holds it whole.
//
// `node bench/smtp-memory.ts` prints one JSON document; smtpMemoryBench() is also called by
// bench/smtp.ts. BENCH_MEMORY_MB (default 25), BENCH_MEMORY_REPETITIONS (default 3),
// BENCH_POSTERN_ROOT: another checkout to measure (an older commit, for a before/after figure).
import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer, Socket } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

const LOGIN = "memory@bench.test";
const PASSWORD = "bench-secret";
const LINE = `${"x".repeat(76)}\r\n`;
const KB = 1024;
const MB = 1024 * KB;

export interface MemorySample {
  mode: "DATA" | "BDAT";
  message_mb: number;
  reply: string;
  seconds: number;
  rss_before_mb: number;
  peak_rss_mb: number;
  peak_rss_delta_mb: number;
}

export interface MemoryResult {
  what: string;
  root: string;
  message_mb: number;
  samples: MemorySample[];
  /** The largest peak delta per mode over the repetitions. */
  max_peak_rss_delta_mb: { DATA: number; BDAT: number };
}

const round = (n: number) => Number(n.toFixed(1));
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export async function smtpMemoryBench(
  options: { root?: string; messageMb?: number; repetitions?: number } = {},
): Promise<MemoryResult> {
  const root = options.root ?? path.resolve(import.meta.dirname, "..");
  const messageMb = options.messageMb ?? 25;
  const repetitions = options.repetitions ?? 3;
  const samples: MemorySample[] = [];
  for (let rep = 0; rep < repetitions; rep++) {
    for (const mode of ["DATA", "BDAT"] as const) {
      // A fresh process each time: memory a previous message left to the GC would hide the peak.
      const postern = await startPostern(root, messageMb);
      try {
        samples.push(await measure(postern, mode, messageMb));
      } finally {
        await postern.stop();
      }
    }
  }
  const max = (mode: string) =>
    Math.max(...samples.filter((s) => s.mode === mode).map((s) => s.peak_rss_delta_mb));
  return {
    what: `peak resident set of a fresh Postern process while receiving one ${messageMb} MB message over SMTP, minus its resident set before`,
    root,
    message_mb: messageMb,
    samples,
    max_peak_rss_delta_mb: { DATA: max("DATA"), BDAT: max("BDAT") },
  };
}

interface Postern {
  child: ChildProcess;
  smtpPort: number;
  stop(): Promise<void>;
}

async function startPostern(root: string, messageMb: number): Promise<Postern> {
  const dataDir = mkdtempSync(path.join(tmpdir(), "postern-bench-memory-"));
  const logFile = path.join(dataDir, "postern.log");
  const httpPort = await freePort();
  const smtpPort = await freePort();
  const adminToken = randomBytes(24).toString("base64url");
  const child = spawn(process.execPath, [path.join(root, "src/node/main.ts")], {
    cwd: dataDir,
    env: {
      ...process.env,
      POSTERN_DATA_DIR: dataDir,
      POSTERN_HTTP_PORT: String(httpPort),
      POSTERN_SMTP_PORT: String(smtpPort),
      POSTERN_SMTPS_PORT: "off",
      POSTERN_ADMIN_TOKEN: adminToken,
      POSTERN_SECRET_KEY: `k1:${randomBytes(32).toString("base64")}`,
      relayhost: "[127.0.0.1]:9", // discard port, nothing listens: deliveries fail before reading bodies
      smtpd_sasl_auth_enable: "yes",
      smtpd_tls_security_level: "may",
      smtpd_sasl_security_options: "noanonymous",
      message_size_limit: String((messageMb + 2) * MB),
    },
    stdio: ["ignore", openSync(logFile, "a"), openSync(logFile, "a")],
  });
  let exited = false;
  child.on("exit", () => {
    exited = true;
  });
  const stop = async () => {
    if (!exited) {
      child.kill("SIGTERM");
      const until = Date.now() + 10_000;
      while (!exited && Date.now() < until) await sleep(100);
      if (!exited) child.kill("SIGKILL");
    }
    rmSync(dataDir, { recursive: true, force: true });
  };
  const admin = (method: string, route: string, body: unknown) =>
    fetch(`http://127.0.0.1:${httpPort}/v1/admin${route}`, {
      method,
      headers: { authorization: `Bearer ${adminToken}`, "content-type": "application/json" },
      body: JSON.stringify(body),
    });
  const until = Date.now() + 30_000;
  for (;;) {
    if (exited || Date.now() > until) {
      const text = readFileSync(logFile, "utf8").trim().split("\n").slice(-8).join("\n");
      await stop();
      throw new Error(`Postern did not start: ${text}`);
    }
    try {
      const created = await admin("POST", "/accounts", { login: LOGIN, password: PASSWORD });
      if (created.ok) break;
    } catch {
      // not listening yet
    }
    await sleep(200);
  }
  const mapped = await admin("PUT", `/maps/sender_login/${encodeURIComponent(LOGIN)}`, { value: LOGIN });
  if (!mapped.ok) throw new Error(`sender_login: ${mapped.status}`);
  return { child, smtpPort, stop };
}

/** kB figures of /proc/<pid>/status. */
function procStatus(pid: number): { rss: number; hwm: number } {
  const text = readFileSync(`/proc/${pid}/status`, "utf8");
  const field = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, "m").exec(text)?.[1] ?? NaN);
  return { rss: field("VmRSS"), hwm: field("VmHWM") };
}

async function measure(postern: Postern, mode: "DATA" | "BDAT", messageMb: number): Promise<MemorySample> {
  const pid = postern.child.pid!;
  const client = await SmtpClient.connect(postern.smtpPort);
  await client.reply();
  await client.command("EHLO memory.bench");
  await client.command(`AUTH PLAIN ${Buffer.from(`\0${LOGIN}\0${PASSWORD}`).toString("base64")}`);
  await client.command(`MAIL FROM:<${LOGIN}>`);
  await client.command("RCPT TO:<memory@example.net>");
  if (mode === "DATA") await client.command("DATA");
  await sleep(200); // let the process settle before the baseline
  const before = procStatus(pid);
  writeFileSync(`/proc/${pid}/clear_refs`, "5"); // resets VmHWM to the current RSS
  const started = performance.now();
  const header = `From: ${LOGIN}\r\nTo: memory@example.net\r\nSubject: ${messageMb} MB\r\nMessage-ID: <memory-${Date.now()}@bench.test>\r\n\r\n`;
  const pattern = Buffer.from(LINE.repeat(Math.floor((64 * KB) / LINE.length)));
  const chunks = Math.ceil((messageMb * MB) / pattern.length);
  let reply = "<none>";
  if (mode === "DATA") {
    await client.write(Buffer.from(header));
    for (let i = 0; i < chunks; i++) await client.write(pattern);
    reply = await client.command(".");
  } else {
    const chunk = Buffer.concat(Array.from({ length: 16 }, () => pattern)); // 1 MB, reused
    const count = Math.ceil(chunks / 16);
    await client.write(Buffer.from(`BDAT ${header.length}\r\n${header}`));
    await client.reply();
    for (let i = 0; i < count; i++) {
      await client.write(Buffer.from(`BDAT ${chunk.length}${i === count - 1 ? " LAST" : ""}\r\n`));
      await client.write(chunk);
      reply = await client.reply();
      if (i < count - 1 && !reply.startsWith("250")) break;
    }
  }
  const seconds = (performance.now() - started) / 1000;
  const after = procStatus(pid);
  await client.command("QUIT").catch(() => "");
  client.close();
  return {
    mode,
    message_mb: messageMb,
    reply: reply.trim(),
    seconds: Number(seconds.toFixed(2)),
    rss_before_mb: round(before.rss / KB),
    peak_rss_mb: round(after.hwm / KB),
    peak_rss_delta_mb: round((after.hwm - before.rss) / KB),
  };
}

class SmtpClient {
  #socket: Socket;
  #buffer = "";
  #waiter: (() => void) | null = null;
  #closed = false;

  private constructor(socket: Socket) {
    this.#socket = socket;
    socket.setEncoding("latin1");
    socket.on("data", (text: string) => {
      this.#buffer += text;
      this.#waiter?.();
    });
    socket.on("close", () => {
      this.#closed = true;
      this.#waiter?.();
    });
    socket.on("error", () => {});
  }

  static connect(port: number): Promise<SmtpClient> {
    return new Promise((resolve, reject) => {
      const socket = new Socket();
      socket.once("error", reject);
      socket.connect(port, "127.0.0.1", () => resolve(new SmtpClient(socket)));
    });
  }

  async reply(): Promise<string> {
    for (;;) {
      const match = /^(?:\d{3}-[^\r\n]*\r\n)*\d{3}(?: [^\r\n]*)?\r\n/.exec(this.#buffer);
      if (match) {
        this.#buffer = this.#buffer.slice(match[0].length);
        return match[0];
      }
      if (this.#closed) return "<eof>";
      await new Promise<void>((resolve) => {
        this.#waiter = resolve;
      });
      this.#waiter = null;
    }
  }

  /** Writes, waiting for the socket to drain when its buffer is full. */
  write(bytes: Uint8Array): Promise<void> {
    return new Promise((resolve) => {
      if (this.#socket.write(bytes)) resolve();
      else this.#socket.once("drain", () => resolve());
    });
  }

  async command(line: string): Promise<string> {
    await this.write(Buffer.from(`${line}\r\n`));
    const reply = await this.reply();
    if (!/^[23]/.test(reply)) throw new Error(`${line.split(" ")[0]}: ${reply.trim()}`);
    return reply;
  }

  close(): void {
    this.#socket.destroy();
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const result = await smtpMemoryBench({
    root: process.env.BENCH_POSTERN_ROOT,
    messageMb: Number(process.env.BENCH_MEMORY_MB ?? 25),
    repetitions: Number(process.env.BENCH_MEMORY_REPETITIONS ?? 3),
  });
  process.stdout.write(
    `${JSON.stringify({ bench: "smtp-memory", ts: new Date().toISOString(), ...result }, null, 2)}\n`,
  );
}
