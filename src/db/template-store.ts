// Per-account message templates.
import { and, asc, eq } from "drizzle-orm";
import type { Database } from "./database.ts";
import { templates } from "./schema.ts";

export type TemplateRow = typeof templates.$inferSelect;

export interface TemplateInput {
  subject: string;
  text: string | null;
  html: string | null;
}

export class DbTemplateStore {
  readonly #db: Database;

  constructor(db: Database) {
    this.#db = db;
  }

  async get(accountId: string, name: string): Promise<TemplateRow | null> {
    const row = await this.#db
      .select()
      .from(templates)
      .where(and(eq(templates.accountId, accountId), eq(templates.name, name)))
      .get();
    return row ?? null;
  }

  async list(accountId: string): Promise<TemplateRow[]> {
    return this.#db
      .select()
      .from(templates)
      .where(eq(templates.accountId, accountId))
      .orderBy(asc(templates.name))
      .all();
  }

  /** Creates or replaces. */
  async put(accountId: string, name: string, input: TemplateInput): Promise<TemplateRow> {
    const now = Date.now();
    return this.#db
      .insert(templates)
      .values({ accountId, name, ...input, createdAt: now, updatedAt: now })
      .onConflictDoUpdate({
        target: [templates.accountId, templates.name],
        set: { ...input, updatedAt: now },
      })
      .returning()
      .get();
  }

  async delete(accountId: string, name: string): Promise<boolean> {
    const row = await this.#db
      .delete(templates)
      .where(and(eq(templates.accountId, accountId), eq(templates.name, name)))
      .returning({ name: templates.name })
      .get();
    return row !== undefined;
  }
}
