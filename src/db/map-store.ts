// `d1:<table>` lookup tables. Keys are folded to lower case (as postmap does for hash: tables).
// Secret values (smarthost passwords) are sealed with AES-GCM, bound to their table and key, and
// are never listed back.
import { and, asc, eq } from "drizzle-orm";
import { openSecret, type parseKeyRing, sealedKeyId, sealSecret } from "../core/auth/secret-box.ts";
import type { LookupTable } from "../core/maps/lookup-table.ts";
import type { Database } from "./database.ts";
import { mapEntries } from "./schema.ts";

type KeyRing = ReturnType<typeof parseKeyRing>;

export interface MapEntrySummary {
  key: string;
  /** The value, or null for a secret. */
  value: string | null;
  secret: boolean;
  updatedAt: number;
}

const secretContext = (table: string, key: string) => `map_entries:${table}:${key}`;

export class DbMapStore {
  readonly #db: Database;
  readonly #keys: KeyRing | null;

  constructor(db: Database, keys: KeyRing | null) {
    this.#db = db;
    this.#keys = keys;
  }

  /** The LookupTable for `d1:<table>`. */
  table(table: string): LookupTable {
    return { lookup: (key) => this.lookup(table, key) };
  }

  async lookup(table: string, key: string): Promise<string | null> {
    const folded = key.toLowerCase();
    const row = await this.#db
      .select()
      .from(mapEntries)
      .where(and(eq(mapEntries.table, table), eq(mapEntries.key, folded)))
      .get();
    if (!row) return null;
    if (!row.secret) return row.value;
    return openSecret(this.#requireKeys(), row.value, secretContext(table, folded));
  }

  async set(table: string, key: string, value: string, secret: boolean): Promise<void> {
    const folded = key.toLowerCase();
    const stored = secret
      ? await sealSecret(this.#requireKeys(), value, secretContext(table, folded))
      : value;
    const updatedAt = Date.now();
    await this.#db
      .insert(mapEntries)
      .values({ table, key: folded, value: stored, secret, updatedAt })
      .onConflictDoUpdate({
        target: [mapEntries.table, mapEntries.key],
        set: { value: stored, secret, updatedAt },
      });
  }

  async delete(table: string, key: string): Promise<boolean> {
    const row = await this.#db
      .delete(mapEntries)
      .where(and(eq(mapEntries.table, table), eq(mapEntries.key, key.toLowerCase())))
      .returning()
      .get();
    return row !== undefined;
  }

  async list(table: string): Promise<MapEntrySummary[]> {
    const rows = await this.#db
      .select()
      .from(mapEntries)
      .where(eq(mapEntries.table, table))
      .orderBy(asc(mapEntries.key))
      .all();
    return rows.map((row) => ({
      key: row.key,
      value: row.secret ? null : row.value,
      secret: row.secret,
      updatedAt: row.updatedAt,
    }));
  }

  /** Re-seals secret entries made under an older key with the current one (key rotation). */
  async resealSecrets(): Promise<number> {
    const keys = this.#requireKeys();
    const rows = await this.#db.select().from(mapEntries).where(eq(mapEntries.secret, true)).all();
    let changed = 0;
    for (const row of rows) {
      if (sealedKeyId(row.value) === keys.current) continue;
      const context = secretContext(row.table, row.key);
      const value = await sealSecret(keys, await openSecret(keys, row.value, context), context);
      await this.#db
        .update(mapEntries)
        .set({ value })
        .where(and(eq(mapEntries.table, row.table), eq(mapEntries.key, row.key)));
      changed += 1;
    }
    return changed;
  }

  #requireKeys(): KeyRing {
    if (!this.#keys) {
      throw Object.assign(new Error("POSTERN_SECRET_KEY is not set: secrets cannot be sealed or opened"), {
        code: "ERR_SECRET_KEY",
        transient: false,
      });
    }
    return this.#keys;
  }
}
