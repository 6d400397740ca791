// Accepting several messages at once (a batch, or one message with an Idempotency-Key): the same
// commit point as acceptMessage, with one write for all of them. Bodies are stored first (a few at a
// time), then every envelope, recipient row and the idempotency answer go in one atomic batch, then
// one queue send wakes delivery. A failure at any step removes what was written and reports a
// temporary error for the whole set: either all of them are accepted or none is.
import type { BodyStore, DeliveryQueue, Logger } from "../ports.ts";
import { AcceptError, type AcceptRecord, type AcceptStore, bodyKeyFor } from "./accept.ts";

export type AcceptRow = Parameters<AcceptStore["insert"]>[0];

/** An answer kept for an idempotency key: status, headers and the body as sent. */
export interface StoredAnswer {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** Stores `answer` under the key that `token` holds, in the same batch as the messages. */
export interface IdempotencyCompletion {
  scope: string;
  key: string;
  token: string;
  answer: StoredAnswer;
}

export interface AcceptManyStore {
  insertMany(rows: AcceptRow[], completion: IdempotencyCompletion | null): Promise<void>;
  deleteMany(ids: string[]): Promise<void>;
}

export interface AcceptManyDeps {
  store: AcceptManyStore;
  bodies: BodyStore;
  queue: DeliveryQueue;
  logger: Logger;
  now?: () => number;
}

/** Concurrent body writes: a Worker keeps at most six connections open at once. */
const BODY_WRITES = 6;

export async function acceptMany(
  records: AcceptRecord[],
  deps: AcceptManyDeps,
  completion: IdempotencyCompletion | null = null,
): Promise<void> {
  const now = (deps.now ?? Date.now)();
  const keyed = records.map((r) => ({
    record: r,
    bodyKey: r.state === "discarded" ? null : bodyKeyFor(r.id),
  }));
  const written: string[] = [];
  try {
    await inParallel(keyed, BODY_WRITES, async ({ record, bodyKey }) => {
      if (!bodyKey) return;
      await deps.bodies.put(bodyKey, record.bytes);
      written.push(bodyKey);
    });
  } catch (error) {
    await removeBodies(written, deps);
    throw new AcceptError(`storing a message body failed: ${describe(error)}`);
  }
  try {
    await deps.store.insertMany(
      keyed.map(({ record, bodyKey }) => row(record, bodyKey, now)),
      completion,
    );
  } catch (error) {
    await removeBodies(written, deps);
    throw new AcceptError(`storing the envelopes failed: ${describe(error)}`);
  }
  const queued = records.filter((r) => r.state === "queued").map((r) => r.id);
  if (queued.length === 0) return;
  try {
    await deps.queue.enqueue(queued);
  } catch (error) {
    try {
      await deps.store.deleteMany(records.map((r) => r.id));
    } catch (undo) {
      // The rows are complete: the sweeper will queue and deliver them.
      deps.logger.warn(
        `${queued.join(",")}: could not withdraw after a queue failure (${describe(undo)}); the sweeper will deliver them`,
      );
      throw new AcceptError(`queueing the messages failed: ${describe(error)}`);
    }
    await removeBodies(written, deps);
    throw new AcceptError(`queueing the messages failed: ${describe(error)}`);
  }
}

function row(record: AcceptRecord, bodyKey: string | null, now: number): AcceptRow {
  return {
    id: record.id,
    accountId: record.accountId,
    saslUsername: record.saslUsername,
    saslMethod: record.saslMethod,
    clientAddress: record.clientAddress,
    mailFrom: record.mailFrom,
    bodyKey,
    size: record.bytes.byteLength,
    headerMessageId: record.headerMessageId,
    eightBit: record.eightBit,
    smtputf8: record.smtputf8,
    state: record.state,
    stateReason: record.stateReason,
    recipients: record.recipients,
    recipientStatus: record.state,
    now,
  };
}

/** Runs `run` over items, `width` at a time; after a failure no new item starts, and it returns
 * (rethrowing the first failure) only when every started one has ended. */
async function inParallel<T>(items: T[], width: number, run: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  let failure: { error: unknown } | null = null;
  const lane = async () => {
    while (next < items.length && !failure) {
      try {
        await run(items[next++]!);
      } catch (error) {
        failure ??= { error };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(width, items.length) }, lane));
  if (failure) throw (failure as { error: unknown }).error;
}

async function removeBodies(keys: string[], deps: AcceptManyDeps): Promise<void> {
  await inParallel(keys, BODY_WRITES, (key) => deps.bodies.delete(key).catch(() => {}));
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
