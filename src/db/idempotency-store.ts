// Idempotency keys: the first request with a key reserves it (one INSERT that only one request can
// win), runs, and leaves its answer; retries with the same key and request get that answer back.
// Rows live 24 h; an answer that came with accepted messages is written in the same batch as the
// messages (see DbSubmissionStore), so a key is never "done" without its messages or vice versa.
import { and, eq, lt, lte, or } from "drizzle-orm";
import type { IdempotencyCompletion, StoredAnswer } from "../core/submission/accept-many.ts";
import type { Database } from "./database.ts";
import { idempotencyKeys } from "./schema.ts";

/** How long a key and its answer are kept (Resend, Stripe: 24 h). */
export const IDEMPOTENCY_TTL_MS = 24 * 3600_000;
/** A pending key whose request died is free again after this (a submission takes seconds). */
export const IDEMPOTENCY_LOCK_MS = 2 * 60_000;

export type Reservation =
  | { kind: "owner"; token: string }
  | { kind: "replay"; answer: StoredAnswer }
  | { kind: "mismatch" }
  | { kind: "in-flight" };

export class DbIdempotencyStore {
  readonly #db: Database;

  constructor(db: Database) {
    this.#db = db;
  }

  async reserve(scope: string, key: string, requestHash: string, now: number): Promise<Reservation> {
    const token = crypto.randomUUID();
    const pending = {
      requestHash,
      token,
      state: "pending" as const,
      lockedUntil: now + IDEMPOTENCY_LOCK_MS,
      status: null,
      headers: null,
      body: null,
      createdAt: now,
      expiresAt: now + IDEMPOTENCY_TTL_MS,
    };
    for (let tries = 0; tries < 3; tries++) {
      const inserted = await this.#db
        .insert(idempotencyKeys)
        .values({ scope, key, ...pending })
        .onConflictDoNothing()
        .returning({ token: idempotencyKeys.token });
      if (inserted.length) return { kind: "owner", token };
      // An expired key, or one whose first request died before answering, is reserved anew.
      const taken = await this.#db
        .update(idempotencyKeys)
        .set(pending)
        .where(
          and(
            this.#where(scope, key),
            or(
              lte(idempotencyKeys.expiresAt, now),
              and(eq(idempotencyKeys.state, "pending"), lt(idempotencyKeys.lockedUntil, now)),
            ),
          ),
        )
        .returning({ token: idempotencyKeys.token });
      if (taken.length) return { kind: "owner", token };
      const row = await this.#db.select().from(idempotencyKeys).where(this.#where(scope, key)).get();
      if (!row) continue; // released in between: try to reserve again
      if (row.requestHash !== requestHash) return { kind: "mismatch" };
      if (row.state === "pending" || row.status === null) return { kind: "in-flight" };
      return {
        kind: "replay",
        answer: { status: row.status, headers: JSON.parse(row.headers ?? "{}"), body: row.body ?? "" },
      };
    }
    return { kind: "in-flight" };
  }

  /** The statement that stores the answer; only the request holding the key can store it. */
  completeStatement(done: IdempotencyCompletion) {
    return this.#db
      .update(idempotencyKeys)
      .set({
        state: "done",
        status: done.answer.status,
        headers: JSON.stringify(done.answer.headers),
        body: done.answer.body,
      })
      .where(and(this.#where(done.scope, done.key), eq(idempotencyKeys.token, done.token)));
  }

  async complete(done: IdempotencyCompletion): Promise<void> {
    await this.completeStatement(done);
  }

  /** Frees a key whose request ended without an answer worth keeping (5xx: nothing was accepted). */
  async release(scope: string, key: string, token: string): Promise<void> {
    await this.#db
      .delete(idempotencyKeys)
      .where(and(this.#where(scope, key), eq(idempotencyKeys.token, token)));
  }

  /** Deletes expired keys (the sweeper); returns how many. */
  async sweep(now: number): Promise<number> {
    const gone = await this.#db
      .delete(idempotencyKeys)
      .where(lte(idempotencyKeys.expiresAt, now))
      .returning({ key: idempotencyKeys.key });
    return gone.length;
  }

  #where(scope: string, key: string) {
    return and(eq(idempotencyKeys.scope, scope), eq(idempotencyKeys.key, key));
  }
}
