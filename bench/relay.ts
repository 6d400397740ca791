// The relay phase of `npm run bench`: delivered messages/s from a backlog to Postfix's smtp-sink,
// Postern's Node runtime delivery (SQLite rows, bodies on disk, the local poller, pipelining and
// session reuse) beside a private Postfix relaying the same number of same-size messages to the
// same sink, repeated, in one run. Both start from a full queue and are timed from the flush to the
// sink's count reaching the backlog.
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync, rmSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { Settings } from "../src/core/config/settings.ts";
import { deliverMessages } from "../src/core/delivery/deliver.ts";
import { newQueueId } from "../src/core/ids.ts";
import { openTable } from "../src/core/maps/open-table.ts";
import type { Logger } from "../src/core/ports.ts";
import { acceptMessage } from "../src/core/submission/accept.ts";
import { DbMessageStore } from "../src/db/message-store.ts";
import { DiskBodyStore } from "../src/node/disk-body-store.ts";
import { LocalDeliveryQueue } from "../src/node/local-queue.ts";
import { connectNode } from "../src/node/net-socket.ts";
import { applyMigrations, openSqliteDatabase } from "../src/node/sqlite-database.ts";
import { startPrivatePostfix } from "./private-postfix.ts";

const MESSAGE_BYTES = 2048;
const LIMIT_MS = 180_000;

async function freePort(): Promise<number> {
  const probe = net.createServer().listen(0, "127.0.0.1");
  await once(probe, "listening");
  const { port } = probe.address() as net.AddressInfo;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}

/** smtp-sink -c prints `sess=N quit=N mesg=N` after each event; the last mesg= is the count. */
class Sink {
  readonly port: number;
  readonly #child: ChildProcess;
  #count = 0;
  constructor(port: number) {
    this.port = port;
    const asRoot = process.getuid?.() === 0 ? ["-u", "nobody"] : [];
    // The anchor's sink flags (bench README): -4 -c -a.
    this.#child = spawn("smtp-sink", [...asRoot, "-4", "-c", "-a", `127.0.0.1:${port}`, "1024"], {
      stdio: ["ignore", "pipe", "inherit"],
    });
    let tail = "";
    this.#child.stdout?.setEncoding("latin1").on("data", (chunk: string) => {
      tail = (tail + chunk).slice(-200);
      const all = [...tail.matchAll(/mesg=(\d+)/g)];
      if (all.length) this.#count = Number(all.at(-1)![1]);
    });
  }
  get count(): number {
    return this.#count;
  }
  async reached(target: number): Promise<number | null> {
    const started = performance.now();
    while (performance.now() - started < LIMIT_MS) {
      if (this.#count >= target) return performance.now();
      await new Promise((r) => setTimeout(r, 5));
    }
    return null;
  }
  stop(): void {
    this.#child.kill("SIGTERM");
  }
}

function message(i: number): Uint8Array {
  const head = `From: <bench@bench.test>\r\nTo: <rcpt${i % 64}@example.net>\r\nSubject: relay bench ${i}\r\n\r\n`;
  const line = `${"x".repeat(76)}\r\n`;
  let body = head;
  while (body.length + line.length <= MESSAGE_BYTES) body += line;
  return new TextEncoder().encode(body);
}

const quiet: Logger = { info: () => {}, warn: () => {}, error: (line) => process.stderr.write(`${line}\n`) };

async function posternRun(sink: Sink, backlog: number) {
  const dir = mkdtempSync(path.join(tmpdir(), "postern-relay-bench-"));
  const database = await openSqliteDatabase(path.join(dir, "postern.db"));
  try {
    await applyMigrations(database);
    const store = new DbMessageStore(database.db);
    const bodies = await DiskBodyStore.open(path.join(dir, "bodies"));
    const noQueue = { enqueue: async () => {} };
    for (let i = 0; i < backlog; i++) {
      await acceptMessage(
        {
          id: newQueueId(),
          accountId: null,
          saslUsername: null,
          saslMethod: null,
          clientAddress: "127.0.0.1",
          mailFrom: "bench@bench.test",
          recipients: [`rcpt${i % 64}@example.net`],
          bytes: message(i),
          headerMessageId: null,
          eightBit: false,
          smtputf8: false,
          state: "queued",
          stateReason: null,
        },
        { store, bodies, queue: noQueue, logger: quiet },
      );
    }
    const settings = new Settings({
      relayhost: `[127.0.0.1]:${sink.port}`,
      smtp_tls_security_level: "none",
    });
    let queue: LocalDeliveryQueue;
    const deps = {
      store,
      bodies,
      queue: { enqueue: (ids: string[], delay?: number) => queue.enqueue(ids, delay) },
      connect: connectNode,
      logger: quiet,
      settings,
      openTable: (spec: string) => openTable(spec),
    };
    // The Node runtime's poller with its defaults.
    queue = new LocalDeliveryQueue({ store, deliver: (ids) => deliverMessages(ids, deps), logger: quiet });
    const before = sink.count;
    const started = performance.now();
    queue.start();
    const done = await sink.reached(before + backlog);
    await queue.stop();
    const seconds = ((done ?? performance.now()) - started) / 1000;
    const delivered = sink.count - before;
    return { delivered, seconds: Number(seconds.toFixed(3)), per_second: Math.round(delivered / seconds) };
  } finally {
    database.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function postfixRun(postfix: ReturnType<typeof startPrivatePostfix>, sink: Sink, backlog: number) {
  postfix.set({ defer_transports: "smtp" });
  // Postfix's own load generator fills the queue through its smtpd (2 KB messages, 8 sessions).
  execFileSync("smtp-source", [
    ...["-l", String(MESSAGE_BYTES), "-m", String(backlog), "-s", "8"],
    ...["-f", "bench@bench.test", "-t", "rcpt@example.net", `127.0.0.1:${postfix.port}`],
  ]);
  const deadline = Date.now() + LIMIT_MS;
  while (postfix.queued() < backlog && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  postfix.set({ defer_transports: "" });
  const before = sink.count;
  const started = performance.now();
  postfix.flush();
  const done = await sink.reached(before + backlog);
  const seconds = ((done ?? performance.now()) - started) / 1000;
  const delivered = sink.count - before;
  return { delivered, seconds: Number(seconds.toFixed(3)), per_second: Math.round(delivered / seconds) };
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? 0;

export async function relayBench(repetitions: number, backlog: number, log: (line: string) => void) {
  const sink = new Sink(await freePort());
  const postfix = startPrivatePostfix(await freePort(), `[127.0.0.1]:${sink.port}`);
  const mailVersion = execFileSync("postconf", ["-h", "mail_version"], { encoding: "utf8" }).trim();
  try {
    const postern = [];
    const anchor = [];
    for (let r = 0; r < repetitions; r++) {
      postern.push(await posternRun(sink, backlog));
      log(`relay postern run ${r + 1}: ${JSON.stringify(postern.at(-1))}`);
      anchor.push(await postfixRun(postfix, sink, backlog));
      log(`relay postfix run ${r + 1}: ${JSON.stringify(anchor.at(-1))}`);
    }
    const posternRate = median(postern.map((x) => x.per_second));
    const postfixRate = median(anchor.map((x) => x.per_second));
    return {
      what: `${backlog} queued 2 KB messages flushed to smtp-sink (-4 -c -a) on loopback; delivered messages/s until the sink counted them all`,
      postern: {
        runtime:
          "Node runtime delivery (SQLite, bodies on disk, local poller with its defaults: batches of 50, 8 in flight; pipelining, session reuse)",
        messages_per_second: posternRate,
        runs: postern,
      },
      postfix: {
        version: mailVersion,
        setup: "private instance (own config/queue), relayhost = the sink, defaults otherwise",
        messages_per_second: postfixRate,
        runs: anchor,
      },
      ratio_postern_to_postfix: Number((posternRate / postfixRate).toFixed(2)),
    };
  } finally {
    postfix.stop();
    sink.stop();
  }
}
