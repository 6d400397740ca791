// The commit protocol of acceptMany: every body, then one write for all envelopes (with the
// idempotency answer), then one queue send; a failure at any step leaves nothing of the set behind
// (or complete rows for the sweeper) and is reported as transient. The stores are in-memory
// stand-ins for R2/D1/Queues; the code under test is acceptMany.
import { describe, expect, it } from "vitest";
import type { BodyStore, DeliveryQueue, Logger } from "../ports.ts";
import { AcceptError, type AcceptRecord, bodyKeyFor } from "./accept.ts";
import { type AcceptManyStore, acceptMany, type IdempotencyCompletion } from "./accept-many.ts";

type Step = "body" | "insert" | "enqueue" | "delete";

function world(failing: { step: Step; after?: number }[] = []) {
  const bodies = new Map<string, Uint8Array>();
  const rows = new Map<string, unknown>();
  const completions: IdempotencyCompletion[] = [];
  const sends: string[][] = [];
  const warnings: string[] = [];
  const calls: Record<Step, number> = { body: 0, insert: 0, enqueue: 0, delete: 0 };
  let inFlight = 0;
  let maxInFlight = 0;
  const fail = (step: Step) => {
    calls[step]++;
    const rule = failing.find((f) => f.step === step);
    if (rule && calls[step] > (rule.after ?? 0)) throw new Error(`${step} failed`);
  };
  const bodyStore: BodyStore = {
    put: async (key, bytes) => {
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      await new Promise((r) => setTimeout(r, 1));
      inFlight--;
      fail("body");
      bodies.set(key, bytes);
    },
    get: async () => null,
    delete: async (key) => {
      bodies.delete(key);
    },
  };
  const store: AcceptManyStore = {
    insertMany: async (list, completion) => {
      fail("insert");
      for (const row of list) rows.set(row.id, row);
      if (completion) completions.push(completion);
    },
    deleteMany: async (ids) => {
      fail("delete");
      for (const id of ids) rows.delete(id);
    },
  };
  const queue: DeliveryQueue = {
    enqueue: async (ids) => {
      fail("enqueue");
      sends.push(ids);
    },
  };
  const logger: Logger = { info: () => {}, warn: (l) => warnings.push(l), error: () => {} };
  return {
    bodies,
    rows,
    completions,
    sends,
    warnings,
    calls,
    maxInFlight: () => maxInFlight,
    deps: { store, bodies: bodyStore, queue, logger },
  };
}

const record = (n: number, state: AcceptRecord["state"] = "queued"): AcceptRecord => ({
  id: `01TESTQUEUEID${String(n).padStart(13, "0")}`,
  accountId: "acct",
  saslUsername: "alice",
  saslMethod: "PLAIN",
  clientAddress: "192.0.2.1",
  mailFrom: "alice@example.com",
  recipients: ["bob@example.net"],
  bytes: new TextEncoder().encode(`Subject: ${n}\r\n\r\nx\r\n`),
  headerMessageId: null,
  eightBit: false,
  smtputf8: false,
  state,
  stateReason: null,
});

const completion: IdempotencyCompletion = {
  scope: "account:acct",
  key: "k",
  token: "t",
  answer: { status: 200, headers: {}, body: "{}" },
};

describe("acceptMany", () => {
  it("stores every body, writes all rows and the answer at once, and queues the queued ones in one send", async () => {
    const w = world();
    const records = [
      ...Array.from({ length: 20 }, (_, i) => record(i)),
      record(20, "held"),
      record(21, "discarded"),
    ];
    await acceptMany(records, w.deps, completion);
    expect(w.bodies.size).toBe(21); // a discarded message keeps no body
    expect(w.bodies.has(bodyKeyFor(records[21]!.id))).toBe(false);
    expect(w.calls.insert).toBe(1);
    expect(w.rows.size).toBe(22);
    expect(w.completions).toEqual([completion]);
    expect(w.sends).toEqual([records.slice(0, 20).map((r) => r.id)]);
    expect(w.maxInFlight()).toBeLessThanOrEqual(6);
    expect(w.maxInFlight()).toBeGreaterThan(1);
  });

  it("removes the bodies already written when one body write fails, and writes no row", async () => {
    const w = world([{ step: "body", after: 5 }]);
    await expect(
      acceptMany(
        Array.from({ length: 20 }, (_, i) => record(i)),
        w.deps,
      ),
    ).rejects.toBeInstanceOf(AcceptError);
    expect(w.bodies.size).toBe(0);
    expect(w.rows.size).toBe(0);
    expect(w.sends).toEqual([]);
  });

  it("removes every body when the envelope write fails", async () => {
    const w = world([{ step: "insert" }]);
    await expect(acceptMany([record(1), record(2)], w.deps, completion)).rejects.toMatchObject({
      transient: true,
    });
    expect(w.bodies.size).toBe(0);
    expect(w.completions).toEqual([]);
  });

  it("withdraws rows and bodies when the queue send fails", async () => {
    const w = world([{ step: "enqueue" }]);
    await expect(acceptMany([record(1), record(2)], w.deps)).rejects.toBeInstanceOf(AcceptError);
    expect(w.rows.size).toBe(0);
    expect(w.bodies.size).toBe(0);
  });

  it("leaves complete rows for the sweeper when they cannot be withdrawn", async () => {
    const w = world([{ step: "enqueue" }, { step: "delete" }]);
    await expect(acceptMany([record(1)], w.deps)).rejects.toBeInstanceOf(AcceptError);
    expect(w.rows.size).toBe(1);
    expect(w.bodies.size).toBe(1);
    expect(w.warnings[0]).toContain("the sweeper will deliver them");
  });

  it("sends nothing to the queue when nothing is queued", async () => {
    const w = world();
    await acceptMany([record(1, "held")], w.deps);
    expect(w.sends).toEqual([]);
    expect(w.rows.size).toBe(1);
  });
});
