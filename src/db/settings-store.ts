// Run-time main.cf overrides (the `postconf -e` of the admin API).
import { eq } from "drizzle-orm";
import type { RawSettings } from "../core/config/settings.ts";
import type { Database } from "./database.ts";
import { settings } from "./schema.ts";

export class DbSettingsStore {
  readonly #db: Database;

  constructor(db: Database) {
    this.#db = db;
  }

  async load(): Promise<RawSettings> {
    const rows = await this.#db.select().from(settings).all();
    return Object.fromEntries(rows.map((row) => [row.name, row.value]));
  }

  async set(name: string, value: string): Promise<void> {
    const updatedAt = Date.now();
    await this.#db
      .insert(settings)
      .values({ name, value, updatedAt })
      .onConflictDoUpdate({ target: settings.name, set: { value, updatedAt } });
  }

  async delete(name: string): Promise<boolean> {
    const row = await this.#db.delete(settings).where(eq(settings.name, name)).returning().get();
    return row !== undefined;
  }
}
