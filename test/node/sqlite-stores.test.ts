// The src/db stores on a real SQLite file through libsql, with the migrations wrangler applies to
// D1: the same code paths (async queries, atomic batch) as on Workers.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { deriveCredentialRecord } from "../../src/core/auth/scram-record.ts";
import { parseKeyRing } from "../../src/core/auth/secret-box.ts";
import { verifyPassword } from "../../src/core/auth/verify-password.ts";
import { newQueueId } from "../../src/core/ids.ts";
import { DbAccountStore } from "../../src/db/account-store.ts";
import { DbCredentialSource } from "../../src/db/credential-source.ts";
import { DbMapStore } from "../../src/db/map-store.ts";
import { DbMessageStore, type NewMessage } from "../../src/db/message-store.ts";
import { messages, recipients } from "../../src/db/schema.ts";
import { DbSettingsStore } from "../../src/db/settings-store.ts";
import { applyMigrations, openSqliteDatabase, type SqliteDatabase } from "../../src/node/sqlite-database.ts";

const scratch = mkdtempSync(path.join(tmpdir(), "postern-sqlite-"));
let database: SqliteDatabase;

beforeAll(async () => {
  database = await openSqliteDatabase(path.join(scratch, "stores.db"));
  await applyMigrations(database);
});

afterAll(() => {
  database?.close();
  rmSync(scratch, { recursive: true, force: true });
});

function newMessage(overrides: Partial<NewMessage> = {}): NewMessage {
  const id = newQueueId();
  return {
    id,
    accountId: null,
    saslUsername: "alice@example.com",
    saslMethod: "PLAIN",
    clientAddress: "192.0.2.1",
    mailFrom: "alice@example.com",
    bodyKey: `bodies/${id}`,
    size: 10,
    headerMessageId: null,
    eightBit: false,
    smtputf8: false,
    state: "queued",
    stateReason: null,
    recipients: ["bob@example.net", "carol@example.net"],
    recipientStatus: "queued",
    now: 1_000,
    ...overrides,
  };
}

describe("the SQLite file", () => {
  it("is in WAL mode with foreign keys enforced", async () => {
    const mode = await database.client.execute("PRAGMA journal_mode");
    expect(String(mode.rows[0]![0]).toLowerCase()).toBe("wal");
    const fk = await database.client.execute("PRAGMA foreign_keys");
    expect(Number(fk.rows[0]![0])).toBe(1);
  });

  it("takes the migrations/ folder once: applying it again changes nothing", async () => {
    const count = async () =>
      Number((await database.client.execute("select count(*) from __drizzle_migrations")).rows[0]![0]);
    const before = await count();
    expect(before).toBeGreaterThanOrEqual(2);
    await applyMigrations(database);
    expect(await count()).toBe(before);
    const columns = await database.client.execute("PRAGMA table_info(accounts)");
    expect(columns.rows.map((r) => r[1])).toContain("scram1_stored_key");
  });
});

describe("DbAccountStore and DbCredentialSource", () => {
  it("creates, finds case-insensitively, refuses a taken login and verifies a password", async () => {
    const accounts = new DbAccountStore(database.db);
    const credential = await deriveCredentialRecord("s3cret-password");
    const created = await accounts.create({ login: "Alice@Example.com", credential });
    expect(created).toMatchObject({ login: "Alice@Example.com", disabled: false, sharedSecret: false });
    expect(await accounts.create({ login: "alice@example.com", credential })).toBeNull();

    const found = await accounts.findByLogin("ALICE@example.com");
    expect(found?.id).toBe(created!.id);
    expect(await verifyPassword(found!.scram, "s3cret-password")).toBe(true);

    const source = new DbCredentialSource(accounts, null);
    expect(await source.verifyPassword("alice@example.com", "s3cret-password")).toBe(true);
    expect(await source.verifyPassword("alice@example.com", "wrong")).toBe(false);

    expect(await accounts.update(created!.id, { disabled: true })).toMatchObject({ disabled: true });
    expect(await new DbCredentialSource(accounts, null).account("alice@example.com")).toBeNull();
    expect(await accounts.delete(created!.id)).toBe(true);
    expect(await accounts.delete(created!.id)).toBe(false);
  });
});

describe("DbMapStore", () => {
  it("looks keys up folded, seals secrets and never lists them back", async () => {
    const keys = parseKeyRing(`k1:${Buffer.alloc(32, 7).toString("base64")}`);
    const maps = new DbMapStore(database.db, keys);
    await maps.set("sender_login", "Bob@Example.net", "bob", false);
    await maps.set("sasl_passwd", "[smtp.example.net]:587", "relay:pw", true);
    expect(await maps.table("sender_login").lookup("BOB@example.net")).toBe("bob");
    expect(await maps.lookup("sasl_passwd", "[smtp.example.net]:587")).toBe("relay:pw");
    expect(await maps.list("sasl_passwd")).toEqual([
      expect.objectContaining({ key: "[smtp.example.net]:587", value: null, secret: true }),
    ]);
    const raw = await database.client.execute(
      "select value from map_entries where table_name = 'sasl_passwd'",
    );
    expect(String(raw.rows[0]![0])).not.toContain("relay:pw");
    await maps.set("sender_login", "bob@example.net", "bob2", false);
    expect(await maps.lookup("sender_login", "bob@example.net")).toBe("bob2");
    expect(await maps.delete("sender_login", "BOB@example.net")).toBe(true);
    expect(await maps.lookup("sender_login", "bob@example.net")).toBeNull();
  });
});

describe("DbSettingsStore", () => {
  it("sets, overwrites, loads and deletes parameters", async () => {
    const settings = new DbSettingsStore(database.db);
    await settings.set("relayhost", "[a.example]:25");
    await settings.set("relayhost", "[b.example]:587");
    await settings.set("minimal_backoff_time", "1s");
    expect(await settings.load()).toMatchObject({ relayhost: "[b.example]:587", minimal_backoff_time: "1s" });
    expect(await settings.delete("relayhost")).toBe(true);
    expect(await settings.delete("relayhost")).toBe(false);
    expect((await settings.load()).relayhost).toBeUndefined();
    await settings.delete("minimal_backoff_time");
  });
});

describe("DbMessageStore", () => {
  it("inserts a message with its recipients and views it", async () => {
    const store = new DbMessageStore(database.db);
    const m = newMessage();
    await store.insert(m);
    const view = await store.view(m.id);
    expect(view?.message).toMatchObject({
      id: m.id,
      state: "queued",
      nextAttemptAt: 1_000,
      leaseUntil: null,
    });
    expect(view?.recipients.map((r) => [r.position, r.address, r.status])).toEqual([
      [0, "bob@example.net", "queued"],
      [1, "carol@example.net", "queued"],
    ]);
    expect(await store.view("nope")).toBeNull();
  });

  it("claims under a lease once, records an attempt and reschedules, then finishes", async () => {
    const store = new DbMessageStore(database.db);
    const m = newMessage({ now: 2_000 });
    await store.insert(m);
    expect(await store.claim(m.id, 2_000, 60_000)).toMatchObject({ id: m.id, leaseUntil: 62_000 });
    expect(await store.claim(m.id, 2_001, 60_000)).toBeNull();
    expect(await store.overdue(3_000, 0, 100)).not.toContain(m.id);

    await store.recordAttempt({
      id: m.id,
      relay: "relay[127.0.0.1]:25",
      now: 3_000,
      nextAttemptAt: 10_000,
      outcomes: [
        { position: 0, recipient: "bob@example.net", status: "sent", reply: "250 ok" },
        { position: 1, recipient: "carol@example.net", status: "deferred", reply: "451 later" },
      ],
    });
    const after = await store.view(m.id);
    expect(after?.message).toMatchObject({
      state: "queued",
      attempts: 1,
      nextAttemptAt: 10_000,
      leaseUntil: null,
    });
    expect(after?.recipients.map((r) => r.status)).toEqual(["sent", "deferred"]);
    expect((await store.pendingRecipients(m.id)).map((r) => r.address)).toEqual(["carol@example.net"]);
    expect(await store.overdue(9_999, 0, 100)).not.toContain(m.id);
    expect(await store.overdue(10_000, 0, 100)).toContain(m.id);

    await store.recordAttempt({
      id: m.id,
      relay: "relay[127.0.0.1]:25",
      now: 11_000,
      nextAttemptAt: null,
      outcomes: [{ position: 1, recipient: "carol@example.net", status: "sent", reply: "250 ok" }],
    });
    expect((await store.view(m.id))?.message.state).toBe("done");
    expect((await store.attempts(m.id)).map((a) => a.status)).toEqual(["sent", "deferred", "sent"]);

    const deleted = await store.delete(m.id);
    expect(deleted?.id).toBe(m.id);
    expect(await store.view(m.id)).toBeNull();
    expect(await store.attempts(m.id)).toEqual([]);
  });

  it("knows when the next queued message is due, counting leases, and drops leases at start-up", async () => {
    const scratchDb = await openSqliteDatabase(path.join(scratch, "due.db"));
    await applyMigrations(scratchDb);
    try {
      const store = new DbMessageStore(scratchDb.db);
      expect(await store.earliestDue()).toBeNull();
      const a = newMessage({ now: 5_000 });
      const b = newMessage({ now: 7_000 });
      await store.insert(a);
      await store.insert(b);
      expect(await store.earliestDue()).toBe(5_000);
      await store.claim(a.id, 5_000, 60_000);
      expect(await store.earliestDue()).toBe(7_000);
      await store.claim(b.id, 7_000, 60_000);
      expect(await store.earliestDue()).toBe(65_000);
      expect(await store.releaseAllLeases()).toBe(2);
      expect(await store.overdue(8_000, 0, 10)).toEqual([a.id, b.id]);
    } finally {
      scratchDb.close();
    }
  });

  it("a batch is atomic: when one statement fails, the others leave nothing", async () => {
    const store = new DbMessageStore(database.db);
    const m = newMessage();
    await store.insert(m);
    // Same id again: the message row conflicts, so its recipient rows must not appear either.
    await expect(
      store.insert({ ...m, recipients: ["x@example.net", "y@example.net", "z@example.net"] }),
    ).rejects.toThrow();
    expect((await store.view(m.id))?.recipients).toHaveLength(2);

    // A message whose recipient row breaks the foreign key: the message row is rolled back too.
    const orphanId = newQueueId();
    const db = database.db;
    await expect(
      db.batch([
        db.insert(messages).values({
          id: orphanId,
          clientAddress: "x",
          mailFrom: "a@example.com",
          size: 1,
          state: "queued",
          createdAt: 1,
          updatedAt: 1,
        }),
        db.insert(recipients).values({
          messageId: "no-such-message",
          position: 0,
          address: "b@example.net",
          status: "queued",
          updatedAt: 1,
        }),
      ]),
    ).rejects.toThrow(/FOREIGN KEY/i);
    expect(await db.select().from(messages).where(eq(messages.id, orphanId)).all()).toEqual([]);
  });
});
