// The pieces of the SMTP accept path on real SQLite and real files: a body written in pieces
// (DiskBodyStore.create), group commit of envelopes, the settings cache that postconf writes drop,
// and per-session table answers.
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { newQueueId } from "../../src/core/ids.ts";
import type { LookupTable } from "../../src/core/maps/lookup-table.ts";
import { DbMessageStore, type NewMessage } from "../../src/db/message-store.ts";
import { CachedSettingsStore } from "../../src/node/cached-settings-store.ts";
import { DiskBodyStore } from "../../src/node/disk-body-store.ts";
import { GroupCommitStore } from "../../src/node/group-commit.ts";
import { sessionTables } from "../../src/node/session-tables.ts";
import { applyMigrations, openSqliteDatabase, type SqliteDatabase } from "../../src/node/sqlite-database.ts";

const scratch = mkdtempSync(path.join(tmpdir(), "postern-accept-path-"));
let database: SqliteDatabase;

beforeAll(async () => {
  database = await openSqliteDatabase(path.join(scratch, "accept.db"));
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
    recipients: ["bob@example.net"],
    recipientStatus: "queued",
    now: 1_000,
    ...overrides,
  };
}

describe("DiskBodyStore.create: a body written in pieces", () => {
  it("large pieces go to the temporary file as they come; commit() puts the whole body under its key", async () => {
    const store = await DiskBodyStore.open(path.join(scratch, "bodies-1"));
    const writer = store.create("bodies/big");
    const piece = new Uint8Array(100 * 1024).fill(0x61);
    for (let i = 0; i < 5; i++) await writer.write(piece);
    const temporary = readdirSync(path.join(store.root, ".tmp"));
    expect(temporary).toHaveLength(1); // past the in-memory threshold, on disk already
    expect(existsSync(path.join(store.root, "bodies", "big"))).toBe(false);
    await writer.write(Uint8Array.of(0x0d, 0x0a));
    await writer.commit();
    const stored = readFileSync(path.join(store.root, "bodies", "big"));
    expect(stored.length).toBe(500 * 1024 + 2);
    expect(stored.subarray(-3)).toEqual(Buffer.from("a\r\n"));
    expect(readdirSync(path.join(store.root, ".tmp"))).toEqual([]);
  });

  it("a small body is written once at commit; abort() leaves nothing, before or after the file exists", async () => {
    const store = await DiskBodyStore.open(path.join(scratch, "bodies-2"));
    const small = store.create("bodies/small");
    await small.write(new TextEncoder().encode("hello\r\n"));
    expect(readdirSync(path.join(store.root, ".tmp"))).toEqual([]);
    await small.abort();
    const big = store.create("bodies/big");
    await big.write(new Uint8Array(300 * 1024));
    expect(readdirSync(path.join(store.root, ".tmp"))).toHaveLength(1);
    await big.abort();
    expect(readdirSync(path.join(store.root, ".tmp"))).toEqual([]);
    expect(await store.get("bodies/small")).toBeNull();
    expect(await store.get("bodies/big")).toBeNull();
    await expect(big.write(new Uint8Array(1))).rejects.toThrow(/already committed or aborted/);
  });

  it("many bodies committed at once are all there (their directory fsyncs are shared)", async () => {
    const store = await DiskBodyStore.open(path.join(scratch, "bodies-3"));
    const keys = Array.from({ length: 40 }, (_, i) => `bodies/m${i}`);
    await Promise.all(
      keys.map(async (key, i) => {
        const writer = store.create(key);
        await writer.write(new TextEncoder().encode(`body ${i}\r\n`));
        await writer.commit();
      }),
    );
    for (const [i, key] of keys.entries()) {
      expect(readFileSync(path.join(store.root, key), "utf8")).toBe(`body ${i}\r\n`);
    }
  });
});

describe("GroupCommitStore", () => {
  it("inserts made together share one transaction and each resolves once it committed", async () => {
    const store = new DbMessageStore(database.db);
    let transactions = 0;
    const counting = {
      insert: (m: NewMessage) => {
        transactions++;
        return store.insert(m);
      },
      insertMany: (list: NewMessage[]) => {
        transactions++;
        return store.insertMany(list);
      },
      delete: (id: string) => store.delete(id),
    };
    const group = new GroupCommitStore(counting);
    const batch = Array.from({ length: 10 }, () => newMessage());
    await Promise.all(batch.map((m) => group.insert(m)));
    expect(transactions).toBe(1);
    for (const m of batch) expect((await store.view(m.id))?.message.mailFrom).toBe("alice@example.com");
  });

  it("one bad message in a group fails alone; the others are stored", async () => {
    const store = new DbMessageStore(database.db);
    const group = new GroupCommitStore(store);
    const good = [newMessage(), newMessage()];
    // An id already taken: the primary key refuses this row.
    const taken = newMessage();
    await store.insert(taken);
    const bad = newMessage({ id: taken.id, mailFrom: "intruder@example.com" });
    const results = await Promise.allSettled([good[0]!, bad, good[1]!].map((m) => group.insert(m)));
    expect(results.map((r) => r.status)).toEqual(["fulfilled", "rejected", "fulfilled"]);
    for (const m of good) expect(await store.view(m.id)).not.toBeNull();
    expect((await store.view(bad.id))?.message.mailFrom).toBe("alice@example.com");
  });
});

describe("CachedSettingsStore", () => {
  it("reads once per lifetime; a write through it is seen at once", async () => {
    let now = 0;
    const settings = new CachedSettingsStore(database.db, { ttlMs: 1_000, now: () => now });
    await settings.set("myhostname", "one.example");
    expect((await settings.load()).myhostname).toBe("one.example");
    // A write behind its back (another store on the same file) is seen after the lifetime.
    const other = new CachedSettingsStore(database.db);
    await other.set("myhostname", "two.example");
    expect((await settings.load()).myhostname).toBe("one.example");
    now += 1_001;
    expect((await settings.load()).myhostname).toBe("two.example");
    // Its own writes and deletes drop the cache.
    await settings.set("myhostname", "three.example");
    expect((await settings.load()).myhostname).toBe("three.example");
    await settings.delete("myhostname");
    expect((await settings.load()).myhostname).toBeUndefined();
  });
});

describe("sessionTables", () => {
  it("asks the table once per key for a session; errors are not remembered; a new session asks again", async () => {
    const asked: string[] = [];
    let fail = true;
    const open = (spec: string): LookupTable => ({
      async lookup(key) {
        asked.push(`${spec}:${key}`);
        if (key === "flaky" && fail) throw new Error("table down");
        return key === "alice" ? "alice-value" : null;
      },
    });
    const session = sessionTables(open);
    expect(await session("d1:t").lookup("alice")).toBe("alice-value");
    expect(await session("d1:t").lookup("alice")).toBe("alice-value");
    expect(await session("d1:t").lookup("bob")).toBeNull();
    await expect(session("d1:t").lookup("flaky")).rejects.toThrow(/table down/);
    fail = false;
    expect(await session("d1:t").lookup("flaky")).toBeNull();
    expect(asked).toEqual(["d1:t:alice", "d1:t:bob", "d1:t:flaky", "d1:t:flaky"]);
    expect(await sessionTables(open)("d1:t").lookup("alice")).toBe("alice-value");
    expect(asked).toHaveLength(5);
  });
});
