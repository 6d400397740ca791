// The commit protocol of acceptMessage: body, then envelope, then the queue; a failure at any
// step leaves nothing behind (or a complete message for the sweeper) and is reported as transient.
// The stores here are in-memory stand-ins for R2/D1/Queues; the code under test is acceptMessage.
import { describe, expect, it } from "vitest";
import type { BodyStore, DeliveryQueue, Logger } from "../ports.ts";
import { AcceptError, type AcceptRecord, type AcceptStore, acceptMessage, bodyKeyFor } from "./accept.ts";

type Step = "body" | "insert" | "enqueue" | "delete";

function world(failing: Step[] = []) {
  const bodies = new Map<string, Uint8Array>();
  const rows = new Map<string, unknown>();
  const jobs: string[] = [];
  const warnings: string[] = [];
  const fail = (step: Step) => {
    if (failing.includes(step)) throw new Error(`${step} failed`);
  };
  const bodyStore: BodyStore = {
    put: async (key, bytes) => {
      fail("body");
      bodies.set(key, bytes);
    },
    get: async () => null,
    delete: async (key) => {
      bodies.delete(key);
    },
  };
  const store: AcceptStore = {
    insert: async (m) => {
      fail("insert");
      rows.set(m.id, m);
    },
    delete: async (id) => {
      fail("delete");
      rows.delete(id);
    },
  };
  const queue: DeliveryQueue = {
    enqueue: async (ids) => {
      fail("enqueue");
      jobs.push(...ids);
    },
  };
  const logger: Logger = { info: () => {}, warn: (l) => warnings.push(l), error: () => {} };
  return { bodies, rows, jobs, warnings, deps: { store, bodies: bodyStore, queue, logger } };
}

const record = (state: AcceptRecord["state"] = "queued"): AcceptRecord => ({
  id: "01TESTQUEUEID0000000000000",
  accountId: "acct",
  saslUsername: "alice",
  saslMethod: "PLAIN",
  clientAddress: "192.0.2.1",
  mailFrom: "alice@example.com",
  recipients: ["bob@example.net"],
  bytes: new TextEncoder().encode("Subject: x\r\n\r\nx\r\n"),
  headerMessageId: null,
  eightBit: false,
  smtputf8: false,
  state,
  stateReason: null,
});

describe("acceptMessage", () => {
  it("stores the body, the rows and queues the job", async () => {
    const w = world();
    await acceptMessage(record(), w.deps);
    expect(w.bodies.has(bodyKeyFor(record().id))).toBe(true);
    expect(w.rows.has(record().id)).toBe(true);
    expect(w.jobs).toEqual([record().id]);
  });

  it.each([
    { name: "body write fails", failing: ["body"] as Step[] },
    { name: "envelope write fails", failing: ["insert"] as Step[] },
    { name: "queue send fails", failing: ["enqueue"] as Step[] },
  ])("$name: transient error and nothing left behind", async ({ failing }) => {
    const w = world(failing);
    const error = await acceptMessage(record(), w.deps).catch((e) => e);
    expect(error).toBeInstanceOf(AcceptError);
    expect(error.transient).toBe(true);
    expect(w.bodies.size).toBe(0);
    expect(w.rows.size).toBe(0);
    expect(w.jobs).toEqual([]);
  });

  it("queue send and withdrawal both fail: the complete message stays for the sweeper", async () => {
    const w = world(["enqueue", "delete"]);
    await expect(acceptMessage(record(), w.deps)).rejects.toBeInstanceOf(AcceptError);
    expect(w.rows.has(record().id)).toBe(true);
    expect(w.bodies.has(bodyKeyFor(record().id))).toBe(true);
    expect(w.warnings.join("\n")).toMatch(/sweeper will deliver it/);
  });

  it("a held message is stored but not queued", async () => {
    const w = world();
    await acceptMessage(record("held"), w.deps);
    expect(w.rows.size).toBe(1);
    expect(w.bodies.size).toBe(1);
    expect(w.jobs).toEqual([]);
  });

  it("a discarded message keeps its envelope as a record, not its body", async () => {
    const w = world();
    await acceptMessage(record("discarded"), w.deps);
    expect(w.rows.size).toBe(1);
    expect(w.bodies.size).toBe(0);
    expect(w.jobs).toEqual([]);
  });
});
