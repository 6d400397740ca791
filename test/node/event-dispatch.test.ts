// The event dispatcher over the real outbox (SQLite through libsql, the D1 migrations) against a
// real HTTP receiver: the whole retry schedule of an endpoint that never answers 2xx, and a lease
// that keeps two dispatchers from sending one event twice.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { Webhook } from "standardwebhooks";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { deriveCredentialRecord } from "../../src/core/auth/scram-record.ts";
import { dispatchDue } from "../../src/core/webhooks/dispatch.ts";
import { EventHub } from "../../src/core/webhooks/event-hub.ts";
import { RETRY_SCHEDULE_MS } from "../../src/core/webhooks/event-types.ts";
import { newWebhookSecret } from "../../src/core/webhooks/standard-webhooks.ts";
import { DbAccountStore } from "../../src/db/account-store.ts";
import { DbEndpointStore } from "../../src/db/endpoint-store.ts";
import { applyMigrations, openSqliteDatabase, type SqliteDatabase } from "../../src/node/sqlite-database.ts";
import { webhookReceiver } from "../webhook-receiver/client.ts";
import { startWebhookReceiver } from "../webhook-receiver/server.ts";

const scratch = mkdtempSync(path.join(tmpdir(), "postern-dispatch-"));
let database: SqliteDatabase;
let server: Awaited<ReturnType<typeof startWebhookReceiver>>;
let receiver: ReturnType<typeof webhookReceiver>;
const logger = { info() {}, warn() {}, error() {} };

beforeAll(async () => {
  database = await openSqliteDatabase(path.join(scratch, "events.db"));
  await applyMigrations(database);
  server = await startWebhookReceiver();
  receiver = webhookReceiver(server.url);
});

afterAll(async () => {
  database?.close();
  await server?.stop();
  rmSync(scratch, { recursive: true, force: true });
});

async function setUp(name: string) {
  const accounts = new DbAccountStore(database.db);
  const account = await accounts.create({
    login: `${name}@example.com`,
    credential: await deriveCredentialRecord("password-123", { iterations: 4096 }),
  });
  const store = new DbEndpointStore(database.db);
  const secret = newWebhookSecret();
  // Stored "sealed": here the identity, so the test sees the dispatcher, not the key ring.
  const endpoint = await store.create({
    id: `ep_${name}`,
    accountId: account!.id,
    url: receiver.url(name),
    secret,
    events: null,
  });
  return { store, secret, endpoint, accountId: account!.id };
}

describe("dispatchDue over the SQLite outbox", () => {
  it("tries 8 times on the schedule (now, 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h), then gives up", async () => {
    const { store, secret, endpoint, accountId } = await setUp("never");
    await receiver.script("never", [], 503);
    let clock = Date.now();
    const hub = new EventHub({
      store,
      accountIdOf: async () => null,
      wake: () => {},
      logger,
      now: () => clock,
    });
    await hub.emit(accountId, "message.accepted", { message_id: "m1" });
    const deps = {
      store,
      openSecret: async (_id: string, sealed: string) => sealed,
      fetch,
      logger,
      now: () => clock,
    };
    let last = clock;
    const waits: number[] = [];
    for (let attempt = 0; attempt < 10; attempt++) {
      const due = await store.earliestDue();
      if (due === null) break;
      waits.push(due - last);
      clock = due;
      expect(await dispatchDue(deps)).toBe(1);
      last = clock;
      // A moment before the next one is due, nothing is sent.
      const next = await store.earliestDue();
      if (next !== null) {
        clock = next - 1;
        expect(await dispatchDue(deps)).toBe(0);
      }
    }
    expect(waits).toEqual([...RETRY_SCHEDULE_MS]);
    const hooks = await receiver.requests("never");
    expect(hooks).toHaveLength(8);
    expect(new Set(hooks.map((h) => h.headers["webhook-id"])).size).toBe(1);
    for (const h of hooks) {
      const ts = Number(h.headers["webhook-timestamp"]);
      expect(h.headers["webhook-signature"]).toBe(
        new Webhook(secret).sign(h.headers["webhook-id"]!, new Date(ts * 1000), h.body),
      );
    }
    const [row] = await store.events(endpoint.id);
    expect(row).toMatchObject({ state: "failed", attempts: 8, lastStatus: 503, lastError: "HTTP 503" });
  });

  it("a leased event is not sent by a second dispatcher", async () => {
    const { store, accountId } = await setUp("lease");
    const hub = new EventHub({ store, accountIdOf: async () => null, wake: () => {}, logger });
    await hub.emit(accountId, "message.sent", { message_id: "m2" });
    const now = Date.now();
    const claimed = await store.claimDue(now, 60_000, 20);
    expect(claimed).toHaveLength(1);
    expect(await store.claimDue(now, 60_000, 20)).toEqual([]);
    // After the lease, another dispatcher takes it (the first one died).
    expect(await store.claimDue(now + 60_001, 60_000, 20)).toHaveLength(1);
  });
});
