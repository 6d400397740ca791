// Inbound webhook receivers and the webhook ids they have already taken.
import { and, asc, eq, lt } from "drizzle-orm";
import type { Database } from "./database.ts";
import { type ReceiverKind, webhookReceivers, webhookSeenIds } from "./schema.ts";

export type ReceiverRow = typeof webhookReceivers.$inferSelect;

export class DbReceiverStore {
  readonly #db: Database;

  constructor(db: Database) {
    this.#db = db;
  }

  async get(id: string): Promise<ReceiverRow | null> {
    return (await this.#db.select().from(webhookReceivers).where(eq(webhookReceivers.id, id)).get()) ?? null;
  }

  async list(): Promise<ReceiverRow[]> {
    return this.#db.select().from(webhookReceivers).orderBy(asc(webhookReceivers.createdAt)).all();
  }

  async create(input: {
    id: string;
    accountId: string;
    kind: ReceiverKind;
    secret: string;
    config: string;
  }): Promise<ReceiverRow> {
    const now = Date.now();
    return this.#db
      .insert(webhookReceivers)
      .values({ ...input, disabled: false, createdAt: now, updatedAt: now })
      .returning()
      .get();
  }

  async update(
    id: string,
    change: { secret?: string; config?: string; disabled?: boolean },
  ): Promise<ReceiverRow | null> {
    const row = await this.#db
      .update(webhookReceivers)
      .set({ ...change, updatedAt: Date.now() })
      .where(eq(webhookReceivers.id, id))
      .returning()
      .get();
    return row ?? null;
  }

  async delete(id: string): Promise<boolean> {
    const [, deleted] = await this.#db.batch([
      this.#db.delete(webhookSeenIds).where(eq(webhookSeenIds.receiverId, id)),
      this.#db
        .delete(webhookReceivers)
        .where(eq(webhookReceivers.id, id))
        .returning({ id: webhookReceivers.id }),
    ]);
    return deleted.length > 0;
  }

  /** Claims a webhook id; false when it was taken before (a replay or a retry of a success). */
  async claimWebhookId(receiverId: string, webhookId: string, now: number): Promise<boolean> {
    const row = await this.#db
      .insert(webhookSeenIds)
      .values({ receiverId, webhookId, seenAt: now })
      .onConflictDoNothing()
      .returning({ id: webhookSeenIds.webhookId })
      .get();
    return row !== undefined;
  }

  /** Gives a claim back when the delivery was not accepted, so the sender's retry goes through. */
  async releaseWebhookId(receiverId: string, webhookId: string): Promise<void> {
    await this.#db
      .delete(webhookSeenIds)
      .where(and(eq(webhookSeenIds.receiverId, receiverId), eq(webhookSeenIds.webhookId, webhookId)));
  }

  /** Ids older than the timestamp tolerance can no longer be replayed: they are refused as stale. */
  async forgetSeenBefore(before: number): Promise<void> {
    await this.#db.delete(webhookSeenIds).where(lt(webhookSeenIds.seenAt, before));
  }
}
