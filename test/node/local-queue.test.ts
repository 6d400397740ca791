// The Node poller over real message rows in SQLite: wake-ups, bounded concurrency, leases, retries
// falling due, a failing delivery, and a stop that lets deliveries in flight finish.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { newQueueId } from "../../src/core/ids.ts";
import type { Logger } from "../../src/core/ports.ts";
import { DbMessageStore } from "../../src/db/message-store.ts";
import { messages } from "../../src/db/schema.ts";
import { LocalDeliveryQueue, type LocalQueueOptions } from "../../src/node/local-queue.ts";
import { applyMigrations, openSqliteDatabase, type SqliteDatabase } from "../../src/node/sqlite-database.ts";

const scratch = mkdtempSync(path.join(tmpdir(), "postern-queue-"));
let database: SqliteDatabase;
let store: DbMessageStore;
let queue: LocalDeliveryQueue | null = null;
const lines: string[] = [];
const logger: Logger = {
  info: (line) => lines.push(line),
  warn: (line) => lines.push(line),
  error: (line) => lines.push(line),
};

beforeAll(async () => {
  database = await openSqliteDatabase(path.join(scratch, "queue.db"));
  await applyMigrations(database);
  store = new DbMessageStore(database.db);
});

beforeEach(async () => {
  await database.db.delete(messages);
  lines.length = 0;
});

afterEach(async () => {
  await queue?.stop();
  queue = null;
});

afterAll(() => {
  database?.close();
  rmSync(scratch, { recursive: true, force: true });
});

async function insert(count: number, now = Date.now()): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < count; i++) {
    const id = newQueueId();
    await store.insert({
      id,
      accountId: null,
      saslUsername: null,
      saslMethod: null,
      clientAddress: "127.0.0.1",
      mailFrom: "a@example.com",
      bodyKey: null,
      size: 1,
      headerMessageId: null,
      eightBit: false,
      smtputf8: false,
      state: "queued",
      stateReason: null,
      recipients: ["b@example.net"],
      recipientStatus: "queued",
      now,
    });
    ids.push(id);
  }
  return ids;
}

/** A delivery agent that plays by the rules (claim, then record), sending nothing anywhere. */
function recordingAgent(
  options: { hold?: Promise<void>; outcome?: "sent" | "deferred"; retryMs?: number } = {},
) {
  const delivered: string[] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  const deliver = async (ids: string[]) => {
    inFlight += 1;
    maxInFlight = Math.max(maxInFlight, inFlight);
    try {
      const claimed: string[] = [];
      for (const id of ids) if (await store.claim(id, Date.now(), 60_000)) claimed.push(id);
      await options.hold;
      for (const id of claimed) {
        const deferred = options.outcome === "deferred";
        await store.recordAttempt({
          id,
          relay: "test",
          now: Date.now(),
          nextAttemptAt: deferred ? Date.now() + (options.retryMs ?? 300) : null,
          outcomes: [
            { position: 0, recipient: "b@example.net", status: deferred ? "deferred" : "sent", reply: "x" },
          ],
        });
        delivered.push(id);
        if (deferred) await queue!.enqueue([id], options.retryMs ?? 300);
      }
    } finally {
      inFlight -= 1;
    }
  };
  return { deliver, delivered, maxInFlight: () => maxInFlight };
}

function startQueue(deliver: (ids: string[]) => Promise<void>, extra: Partial<LocalQueueOptions> = {}) {
  queue = new LocalDeliveryQueue({ store, deliver, logger, minIdleMs: 20, maxIdleMs: 5_000, ...extra });
  queue.start();
  return queue;
}

async function until(condition: () => boolean | Promise<boolean>, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error("timed out");
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

const stateOf = async (id: string) => (await store.view(id))?.message.state;

describe("LocalDeliveryQueue", () => {
  it("delivers rows that are already due when it starts (what a restart finds)", async () => {
    const ids = await insert(3);
    const agent = recordingAgent();
    startQueue(agent.deliver);
    await until(() => agent.delivered.length === 3);
    expect(agent.delivered.sort()).toEqual([...ids].sort());
    for (const id of ids) expect(await stateOf(id)).toBe("done");
  });

  it("messages enqueued together go to one deliver() call (gatherMs)", async () => {
    const calls: string[][] = [];
    const agent = recordingAgent();
    startQueue(
      async (ids) => {
        calls.push(ids);
        await agent.deliver(ids);
      },
      { minIdleMs: 60_000, maxIdleMs: 60_000, gatherMs: 400 },
    );
    await new Promise((resolve) => setTimeout(resolve, 50)); // the first poll found nothing
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      const [id] = await insert(1);
      ids.push(id!);
      await queue!.enqueue([id!]);
      await new Promise((resolve) => setTimeout(resolve, 5)); // at once, the first would go alone
    }
    await until(() => agent.delivered.length === 5);
    expect(calls).toHaveLength(1);
    expect([...calls[0]!].sort()).toEqual([...ids].sort());
  });

  it("enqueue() wakes an idle poller at once, however long it meant to sleep", async () => {
    const agent = recordingAgent();
    startQueue(agent.deliver, { minIdleMs: 60_000, maxIdleMs: 60_000 });
    await new Promise((resolve) => setTimeout(resolve, 50));
    const [id] = await insert(1);
    const started = Date.now();
    await queue!.enqueue([id!]);
    await until(() => agent.delivered.length === 1, 2_000);
    expect(Date.now() - started).toBeLessThan(1_000);
  });

  it("keeps at most `concurrency` deliveries in flight and hands no id out twice", async () => {
    const ids = await insert(7);
    let release!: () => void;
    const hold = new Promise<void>((resolve) => {
      release = resolve;
    });
    const agent = recordingAgent({ hold });
    startQueue(agent.deliver, { concurrency: 2, batchSize: 2 });
    await until(() => queue!.inFlight.size === 4);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(queue!.inFlight.size).toBe(4);
    release();
    await until(() => agent.delivered.length === 7);
    expect(agent.maxInFlight()).toBe(2);
    expect(new Set(agent.delivered).size).toBe(7);
    expect(agent.delivered.sort()).toEqual([...ids].sort());
  });

  it("leaves a leased row alone until its lease expires", async () => {
    const [id] = await insert(1);
    await store.claim(id!, Date.now(), 400);
    const agent = recordingAgent();
    startQueue(agent.deliver);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(agent.delivered).toEqual([]);
    await until(() => agent.delivered.length === 1, 3_000);
  });

  it("a deferred message is tried again when its retry falls due", async () => {
    const [id] = await insert(1);
    const attempts: number[] = [];
    const deferring = recordingAgent({ outcome: "deferred", retryMs: 300 });
    const sending = recordingAgent();
    startQueue(async (ids) => {
      attempts.push(Date.now());
      await (attempts.length === 1 ? deferring : sending).deliver(ids);
    });
    await until(() => sending.delivered.length === 1, 3_000);
    expect(attempts).toHaveLength(2);
    expect(attempts[1]! - attempts[0]!).toBeGreaterThanOrEqual(250);
    expect(await stateOf(id!)).toBe("done");
  });

  it("a failing delivery is logged and its rows stay queued", async () => {
    const [id] = await insert(1);
    let calls = 0;
    startQueue(async (ids) => {
      calls += 1;
      await store.claim(ids[0]!, Date.now(), 60_000);
      throw new Error("database is locked");
    });
    await until(() => lines.some((l) => l.includes("database is locked")));
    expect(await stateOf(id!)).toBe("queued");
    await new Promise((resolve) => setTimeout(resolve, 100));
    // Leased by the failed attempt: not handed out again before the lease expires.
    expect(calls).toBe(1);
  });

  it("stop() lets the delivery in flight finish, then starts nothing new", async () => {
    await insert(1);
    let release!: () => void;
    const hold = new Promise<void>((resolve) => {
      release = resolve;
    });
    const agent = recordingAgent({ hold });
    const q = startQueue(agent.deliver, { concurrency: 1, batchSize: 1 });
    await until(() => q.inFlight.size === 1);
    const stopped = q.stop();
    let done = false;
    void stopped.then(() => {
      done = true;
    });
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(done).toBe(false);
    await insert(1);
    await q.enqueue(["any"]);
    release();
    await stopped;
    expect(agent.delivered).toHaveLength(1);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(agent.delivered).toHaveLength(1);
  });
});
