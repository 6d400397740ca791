// npm run bench: Postern's HTTP submission and delivery figures, as JSON on stdout.
//
// Starts the gateway exactly as `npm run dev` does (wrangler dev, local D1/R2/Queues; its own state
// folder so nothing of yours is touched) and the test smarthost process as the SMTP sink, then:
//   accept:  POST /v1/messages with 2 KB messages at several concurrency levels, repeated;
//            accepted messages/s and p50/p99 latency (delivery to the sink runs meanwhile);
//   batch:   POST /v1/messages/batch with 100 messages of the same size per request, at 1 and 4
//            requests in flight; accepted messages/s and p50/p99 latency per request;
//   deliver: a backlog of deferred messages flushed at once (postqueue -f); delivered messages/s
//            until the sink has counted all of them.
//   relay:   the Node runtime's delivery of a backlog to Postfix's smtp-sink beside a private
//            Postfix relaying the same backlog to the same sink, repeated (bench/relay.ts).
// Loopback only; every loop is bounded in count and time.
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { type RunningGateway, startGateway } from "../test/gateway/start-gateway.ts";
import { startSmarthost } from "../test/smarthost/spawn.ts";
import { relayBench } from "./relay.ts";
import { saslBench } from "./sasl.ts";

const LOGIN = "bench@example.com";
const PASSWORD = "bench-password-0123";
const LEVELS = [1, 8, 32];
const REPETITIONS = Number(process.env.BENCH_REPETITIONS ?? 3);
const REQUESTS = Number(process.env.BENCH_REQUESTS ?? 300);
const BACKLOG = Number(process.env.BENCH_BACKLOG ?? 300);
const BATCHES = Number(process.env.BENCH_BATCHES ?? 20);
const BATCH_SIZE = 100;
const BATCH_LEVELS = [1, 4];
const SASL_EXCHANGES = Number(process.env.BENCH_SASL_EXCHANGES ?? 200);
const RELAY_BACKLOG = Number(process.env.BENCH_RELAY_BACKLOG ?? 2000);
/** Which parts to run: accept, batch, deliver, sasl, relay (comma-separated; all by default). */
const PHASES = new Set((process.env.BENCH_PHASES ?? "accept,batch,deliver,sasl,relay").split(","));
const PHASE_LIMIT_MS = 120_000;

const log = (line: string) => process.stderr.write(`bench: ${line}\n`);

const postconf = async (gateway: RunningGateway, values: Record<string, string>) => {
  for (const [name, value] of Object.entries(values))
    await gateway.admin("PUT", `/settings/${name}`, { value });
};

const authorization = `Basic ${Buffer.from(`${LOGIN}:${PASSWORD}`).toString("base64")}`;
const TEXT = "Lorem ipsum dolor sit amet, consectetur adipiscing elit. ".repeat(34); // ~2 KB message

const benchMessage = (i: number) => ({
  from: LOGIN,
  to: [`rcpt${i % 64}@example.net`],
  subject: `bench ${i}`,
  text: TEXT,
});

function submit(url: string, i: number): Promise<Response> {
  return fetch(`${url}/v1/messages`, {
    method: "POST",
    headers: { authorization, "content-type": "application/json" },
    body: JSON.stringify(benchMessage(i)),
  });
}

function submitBatch(url: string, first: number): Promise<Response> {
  return fetch(`${url}/v1/messages/batch`, {
    method: "POST",
    headers: { authorization, "content-type": "application/json" },
    body: JSON.stringify(Array.from({ length: BATCH_SIZE }, (_, k) => benchMessage(first + k))),
  });
}

const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? 0;
const round = (n: number, digits = 1) => Number(n.toFixed(digits));

async function acceptRun(url: string, concurrency: number, total: number) {
  const latencies: number[] = [];
  let issued = 0;
  let errors = 0;
  const started = performance.now();
  const worker = async () => {
    while (issued < total && performance.now() - started < PHASE_LIMIT_MS) {
      const i = issued++;
      const t0 = performance.now();
      const res = await submit(url, i);
      await res.arrayBuffer();
      if (res.status === 202) latencies.push(performance.now() - t0);
      else errors++;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  const seconds = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  return {
    accepted: latencies.length,
    errors,
    per_second: round(latencies.length / seconds),
    p50_ms: round(percentile(latencies, 50)),
    p99_ms: round(percentile(latencies, 99)),
  };
}

async function batchRun(url: string, concurrency: number, total: number) {
  const latencies: number[] = [];
  let issued = 0;
  let accepted = 0;
  let errors = 0;
  const started = performance.now();
  const worker = async () => {
    while (issued < total && performance.now() - started < PHASE_LIMIT_MS) {
      const i = issued++;
      const t0 = performance.now();
      const res = await submitBatch(url, i * BATCH_SIZE);
      if (res.status !== 200) {
        await res.arrayBuffer();
        errors += BATCH_SIZE;
        continue;
      }
      const { results } = (await res.json()) as { results: { status: number }[] };
      latencies.push(performance.now() - t0);
      const ok = results.filter((r) => r.status === 202).length;
      accepted += ok;
      errors += results.length - ok;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  const seconds = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  return {
    requests: latencies.length,
    accepted,
    errors,
    per_second: round(accepted / seconds),
    p50_ms: round(percentile(latencies, 50)),
    p99_ms: round(percentile(latencies, 99)),
  };
}

function sinkCount(file: string): number {
  return existsSync(file) ? Number(readFileSync(file, "utf8").trim() || 0) : 0;
}

async function waitForCount(file: string, target: number, limitMs: number): Promise<number | null> {
  const started = performance.now();
  while (performance.now() - started < limitMs) {
    if (sinkCount(file) >= target) return performance.now();
    await new Promise((r) => setTimeout(r, 20));
  }
  return null;
}

async function main(): Promise<void> {
  // First, before wrangler dev starts: its own figures do not share the cores with the gateway.
  const relayFigures = PHASES.has("relay") ? await relayBench(REPETITIONS, RELAY_BACKLOG, log) : null;
  if (!["accept", "batch", "deliver", "sasl"].some((phase) => PHASES.has(phase))) {
    const date = new Date().toISOString();
    console.log(
      JSON.stringify(
        { benchmark: "postern-relay", date, repetitions: REPETITIONS, relay: relayFigures },
        null,
        2,
      ),
    );
    return;
  }
  const work = mkdtempSync(path.join(tmpdir(), "postern-bench-"));
  const countFile = path.join(work, "sink-count");
  const sink = await startSmarthost({ SMARTHOST_COUNT_FILE: countFile });
  const gateway = await startGateway();
  try {
    const { url } = gateway;
    await gateway.admin("POST", "/accounts", { login: LOGIN, password: PASSWORD });
    await gateway.admin("PUT", `/maps/sender_login/${encodeURIComponent(LOGIN)}`, { value: LOGIN });
    const relay = {
      relayhost: `[127.0.0.1]:${sink.ports.open}`,
      smtp_tls_security_level: "none",
      smtp_sasl_auth_enable: "no",
    };
    await postconf(gateway, relay);
    for (let i = 0; i < 20; i++) await (await submit(url, i)).arrayBuffer(); // warm-up

    const accept: Record<string, unknown> = {};
    for (const concurrency of PHASES.has("accept") ? LEVELS : []) {
      const runs = [];
      for (let r = 0; r < REPETITIONS; r++) {
        runs.push(await acceptRun(url, concurrency, REQUESTS));
        log(`accept c=${concurrency} run ${r + 1}: ${JSON.stringify(runs.at(-1))}`);
      }
      accept[`c${concurrency}`] = {
        concurrency,
        messages_per_second: round(median(runs.map((r) => r.per_second))),
        p50_ms: round(median(runs.map((r) => r.p50_ms))),
        p99_ms: round(median(runs.map((r) => r.p99_ms))),
        errors: runs.reduce((n, r) => n + r.errors, 0),
        runs,
      };
    }
    const batch: Record<string, unknown> = {};
    for (const concurrency of PHASES.has("batch") ? BATCH_LEVELS : []) {
      const runs = [];
      for (let r = 0; r < REPETITIONS; r++) {
        runs.push(await batchRun(url, concurrency, BATCHES));
        log(`batch c=${concurrency} run ${r + 1}: ${JSON.stringify(runs.at(-1))}`);
      }
      batch[`c${concurrency}`] = {
        concurrency,
        batch_size: BATCH_SIZE,
        messages_per_second: round(median(runs.map((r) => r.per_second))),
        p50_ms_per_request: round(median(runs.map((r) => r.p50_ms))),
        p99_ms_per_request: round(median(runs.map((r) => r.p99_ms))),
        errors: runs.reduce((n, r) => n + r.errors, 0),
        runs,
      };
    }
    const batched = Object.values(batch).reduce(
      (n: number, b) => n + (b as { runs: { accepted: number }[] }).runs.reduce((m, r) => m + r.accepted, 0),
      0,
    );
    const submitted = 20 + Object.keys(accept).length * REPETITIONS * REQUESTS + batched;
    const drained = await waitForCount(countFile, submitted, PHASE_LIMIT_MS);
    log(
      `sink has ${sinkCount(countFile)} of ${submitted} after the accept phase (${drained ? "drained" : "not drained"})`,
    );

    // Delivery from a backlog: park BACKLOG messages as deferred, then flush them at once.
    const delivery = [];
    for (let r = 0; r < (PHASES.has("deliver") ? REPETITIONS : 0); r++) {
      await postconf(gateway, { relayhost: "" });
      const before = sinkCount(countFile);
      for (let i = 0; i < BACKLOG; i += 16) {
        await Promise.all(
          Array.from({ length: Math.min(16, BACKLOG - i) }, (_, k) =>
            submit(url, i + k).then((res) => res.arrayBuffer()),
          ),
        );
      }
      // Wait until the queue has tried (and deferred) every one of them.
      const deadline = Date.now() + PHASE_LIMIT_MS;
      while (Date.now() < deadline) {
        const q = (await gateway.admin("GET", "/queue?state=queued")) as { messages: { attempts: number }[] };
        if (q.messages.length >= BACKLOG && q.messages.every((m) => m.attempts >= 1)) break;
        await new Promise((res) => setTimeout(res, 200));
      }
      await postconf(gateway, relay);
      const started = performance.now();
      await gateway.admin("POST", "/queue/flush");
      const done = await waitForCount(countFile, before + BACKLOG, PHASE_LIMIT_MS);
      const seconds = ((done ?? performance.now()) - started) / 1000;
      const delivered = sinkCount(countFile) - before;
      delivery.push({
        backlog: BACKLOG,
        delivered,
        seconds: round(seconds, 2),
        per_second: round(delivered / seconds),
      });
      log(`deliver run ${r + 1}: ${JSON.stringify(delivery.at(-1))}`);
    }

    const sasl = PHASES.has("sasl") ? await saslBench(gateway, REPETITIONS, SASL_EXCHANGES, log) : null;

    console.log(
      JSON.stringify(
        {
          benchmark: "postern-http",
          date: new Date().toISOString(),
          runtime: "wrangler dev (workerd, local D1/R2/Queues), loopback, message 2 KB",
          repetitions: REPETITIONS,
          accept,
          batch,
          delivery: { messages_per_second: round(median(delivery.map((d) => d.per_second))), runs: delivery },
          sasl,
          relay: relayFigures,
        },
        null,
        2,
      ),
    );
  } finally {
    await gateway.stop();
    await sink.stop();
    rmSync(work, { recursive: true, force: true });
  }
}

await main();
