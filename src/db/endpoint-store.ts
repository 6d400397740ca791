// Event webhook endpoints and the event outbox they are served from.
import { and, asc, eq, inArray, isNull, lt, lte, or, sql } from "drizzle-orm";
import type { DueEvent, OutboxStore } from "../core/webhooks/dispatch.ts";
import type { OutboxWriter } from "../core/webhooks/event-hub.ts";
import type { EventType } from "../core/webhooks/event-types.ts";
import type { Database } from "./database.ts";
import { eventOutbox, webhookEndpoints } from "./schema.ts";

export type EndpointRow = typeof webhookEndpoints.$inferSelect;
export type OutboxRow = typeof eventOutbox.$inferSelect;

const ROWS_PER_INSERT = 7;

export class DbEndpointStore implements OutboxWriter, OutboxStore {
  readonly #db: Database;

  constructor(db: Database) {
    this.#db = db;
  }

  async get(id: string): Promise<EndpointRow | null> {
    return (await this.#db.select().from(webhookEndpoints).where(eq(webhookEndpoints.id, id)).get()) ?? null;
  }

  async list(accountId?: string): Promise<EndpointRow[]> {
    const query = this.#db.select().from(webhookEndpoints);
    const filtered = accountId ? query.where(eq(webhookEndpoints.accountId, accountId)) : query;
    return filtered.orderBy(asc(webhookEndpoints.createdAt)).all();
  }

  async create(input: {
    id: string;
    accountId: string;
    url: string;
    secret: string;
    events: string | null;
  }): Promise<EndpointRow> {
    const now = Date.now();
    return this.#db
      .insert(webhookEndpoints)
      .values({ ...input, disabled: false, disabledReason: null, createdAt: now, updatedAt: now })
      .returning()
      .get();
  }

  async update(
    id: string,
    change: { url?: string; secret?: string; events?: string | null; disabled?: boolean },
  ): Promise<EndpointRow | null> {
    const set: Partial<EndpointRow> = { ...change, updatedAt: Date.now() };
    if (change.disabled === false) set.disabledReason = null;
    const row = await this.#db
      .update(webhookEndpoints)
      .set(set)
      .where(eq(webhookEndpoints.id, id))
      .returning()
      .get();
    return row ?? null;
  }

  async delete(id: string): Promise<boolean> {
    const [, deleted] = await this.#db.batch([
      this.#db.delete(eventOutbox).where(eq(eventOutbox.endpointId, id)),
      this.#db
        .delete(webhookEndpoints)
        .where(eq(webhookEndpoints.id, id))
        .returning({ id: webhookEndpoints.id }),
    ]);
    return deleted.length > 0;
  }

  /** The newest outbox rows of an endpoint (what was sent, what waits). */
  async events(endpointId: string, limit = 100): Promise<OutboxRow[]> {
    return this.#db
      .select()
      .from(eventOutbox)
      .where(eq(eventOutbox.endpointId, endpointId))
      .orderBy(sql`${eventOutbox.seq} desc`)
      .limit(limit)
      .all();
  }

  async endpointsFor(accountId: string, type: EventType): Promise<string[]> {
    const rows = await this.#db
      .select({ id: webhookEndpoints.id, events: webhookEndpoints.events })
      .from(webhookEndpoints)
      .where(and(eq(webhookEndpoints.accountId, accountId), eq(webhookEndpoints.disabled, false)))
      .all();
    return rows.filter((r) => r.events === null || r.events.split(" ").includes(type)).map((r) => r.id);
  }

  async append(
    rows: { id: string; endpointId: string; type: EventType; payload: string }[],
    now: number,
  ): Promise<void> {
    const values = rows.map((r) => ({
      ...r,
      state: "pending" as const,
      attempts: 0,
      nextAttemptAt: now,
      leaseUntil: null,
      lastStatus: null,
      lastError: null,
      createdAt: now,
      updatedAt: now,
    }));
    // D1 binds at most 100 parameters per statement: 7 rows of 13 columns each, all in one batch.
    const inserts = [];
    for (let i = 0; i < values.length; i += ROWS_PER_INSERT) {
      inserts.push(this.#db.insert(eventOutbox).values(values.slice(i, i + ROWS_PER_INSERT)));
    }
    const [first, ...rest] = inserts;
    if (first) await this.#db.batch([first, ...rest]);
  }

  async claimDue(now: number, leaseMs: number, limit: number): Promise<DueEvent[]> {
    // One statement: the rows are leased and read atomically, so concurrent drainers split them.
    const claimed = await this.#db
      .update(eventOutbox)
      .set({ leaseUntil: now + leaseMs })
      .where(
        inArray(
          eventOutbox.seq,
          this.#db
            .select({ seq: eventOutbox.seq })
            .from(eventOutbox)
            .where(
              and(
                eq(eventOutbox.state, "pending"),
                lte(eventOutbox.nextAttemptAt, now),
                or(isNull(eventOutbox.leaseUntil), lt(eventOutbox.leaseUntil, now)),
              ),
            )
            .orderBy(asc(eventOutbox.seq))
            .limit(limit),
        ),
      )
      .returning()
      .all();
    if (claimed.length === 0) return [];
    const endpointIds = [...new Set(claimed.map((r) => r.endpointId))];
    const endpoints = await this.#db
      .select()
      .from(webhookEndpoints)
      .where(inArray(webhookEndpoints.id, endpointIds))
      .all();
    const byId = new Map(endpoints.map((e) => [e.id, e]));
    return claimed
      .sort((a, b) => a.seq - b.seq)
      .flatMap((r) => {
        const endpoint = byId.get(r.endpointId);
        if (!endpoint) return [];
        return [
          {
            seq: r.seq,
            id: r.id,
            endpointId: r.endpointId,
            url: endpoint.url,
            sealedSecret: endpoint.secret,
            payload: r.payload,
            attempts: r.attempts,
          },
        ];
      });
  }

  async delivered(seq: number, status: number, now: number): Promise<void> {
    await this.#db
      .update(eventOutbox)
      .set({
        state: "delivered",
        attempts: sql`${eventOutbox.attempts} + 1`,
        lastStatus: status,
        lastError: null,
        nextAttemptAt: null,
        leaseUntil: null,
        updatedAt: now,
      })
      .where(eq(eventOutbox.seq, seq));
  }

  async failed(
    seq: number,
    result: { status: number | null; error: string; nextAttemptAt: number | null; now: number },
  ): Promise<void> {
    await this.#db
      .update(eventOutbox)
      .set({
        state: result.nextAttemptAt === null ? "failed" : "pending",
        attempts: sql`${eventOutbox.attempts} + 1`,
        lastStatus: result.status,
        lastError: result.error,
        nextAttemptAt: result.nextAttemptAt,
        leaseUntil: null,
        updatedAt: result.now,
      })
      .where(eq(eventOutbox.seq, seq));
  }

  async disableEndpoint(endpointId: string, reason: string, now: number): Promise<void> {
    await this.#db.batch([
      this.#db
        .update(webhookEndpoints)
        .set({ disabled: true, disabledReason: reason, updatedAt: now })
        .where(eq(webhookEndpoints.id, endpointId)),
      this.#db
        .update(eventOutbox)
        .set({
          state: "failed",
          lastStatus: 410,
          lastError: reason,
          nextAttemptAt: null,
          leaseUntil: null,
          updatedAt: now,
          attempts: sql`${eventOutbox.attempts} + case when ${eventOutbox.leaseUntil} is not null then 1 else 0 end`,
        })
        .where(and(eq(eventOutbox.endpointId, endpointId), eq(eventOutbox.state, "pending"))),
    ]);
  }

  /** Drops delivered and given-up events older than `before` (the outbox is not an archive). */
  async pruneFinished(before: number): Promise<void> {
    await this.#db
      .delete(eventOutbox)
      .where(and(inArray(eventOutbox.state, ["delivered", "failed"]), lt(eventOutbox.updatedAt, before)));
  }

  async earliestDue(): Promise<number | null> {
    const row = await this.#db
      .select({
        at: sql<
          number | null
        >`min(max(coalesce(${eventOutbox.nextAttemptAt}, 0), coalesce(${eventOutbox.leaseUntil}, 0)))`,
      })
      .from(eventOutbox)
      .where(eq(eventOutbox.state, "pending"))
      .get();
    return row?.at ?? null;
  }
}
