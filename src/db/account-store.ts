// Accounts: the SASL logins and their SCRAM records.
import { asc, eq, sql } from "drizzle-orm";
import type { ScramRecord } from "../core/auth/scram-record.ts";
import type { Account, AccountStore } from "../core/ports.ts";
import type { Database } from "./database.ts";
import { accounts } from "./schema.ts";

export interface AccountSummary {
  id: string;
  login: string;
  disabled: boolean;
  note: string | null;
  createdAt: number;
  updatedAt: number;
}

type Row = typeof accounts.$inferSelect;

const toAccount = (row: Row): Account => ({
  id: row.id,
  login: row.login,
  disabled: row.disabled,
  scram: {
    mechanism: "SCRAM-SHA-256",
    salt: row.scramSalt,
    iterations: row.scramIterations,
    storedKey: row.scramStoredKey,
    serverKey: row.scramServerKey,
  },
});

const toSummary = (row: Row): AccountSummary => ({
  id: row.id,
  login: row.login,
  disabled: row.disabled,
  note: row.note,
  createdAt: row.createdAt,
  updatedAt: row.updatedAt,
});

const byLogin = (login: string) => sql`lower(${accounts.login}) = ${login.toLowerCase()}`;

export class DbAccountStore implements AccountStore {
  readonly #db: Database;

  constructor(db: Database) {
    this.#db = db;
  }

  async findByLogin(login: string): Promise<Account | null> {
    const row = await this.#db.select().from(accounts).where(byLogin(login)).get();
    return row ? toAccount(row) : null;
  }

  async find(idOrLogin: string): Promise<AccountSummary | null> {
    const row = await this.#db
      .select()
      .from(accounts)
      .where(sql`${accounts.id} = ${idOrLogin} or ${byLogin(idOrLogin)}`)
      .get();
    return row ? toSummary(row) : null;
  }

  async list(): Promise<AccountSummary[]> {
    const rows = await this.#db.select().from(accounts).orderBy(asc(accounts.login)).all();
    return rows.map(toSummary);
  }

  /** Returns null when the login is taken. */
  async create(input: {
    login: string;
    scram: ScramRecord;
    note?: string | null;
  }): Promise<AccountSummary | null> {
    const now = Date.now();
    const row: Row = {
      id: crypto.randomUUID(),
      login: input.login,
      scramSalt: input.scram.salt,
      scramIterations: input.scram.iterations,
      scramStoredKey: input.scram.storedKey,
      scramServerKey: input.scram.serverKey,
      disabled: false,
      note: input.note ?? null,
      createdAt: now,
      updatedAt: now,
    };
    const inserted = await this.#db.insert(accounts).values(row).onConflictDoNothing().returning().get();
    return inserted ? toSummary(inserted) : null;
  }

  async update(
    id: string,
    change: { scram?: ScramRecord; disabled?: boolean; note?: string | null },
  ): Promise<AccountSummary | null> {
    const set: Partial<Row> = { updatedAt: Date.now() };
    if (change.scram) {
      set.scramSalt = change.scram.salt;
      set.scramIterations = change.scram.iterations;
      set.scramStoredKey = change.scram.storedKey;
      set.scramServerKey = change.scram.serverKey;
    }
    if (change.disabled !== undefined) set.disabled = change.disabled;
    if (change.note !== undefined) set.note = change.note;
    const row = await this.#db.update(accounts).set(set).where(eq(accounts.id, id)).returning().get();
    return row ? toSummary(row) : null;
  }

  async delete(id: string): Promise<boolean> {
    const row = await this.#db
      .delete(accounts)
      .where(eq(accounts.id, id))
      .returning({ id: accounts.id })
      .get();
    return row !== undefined;
  }
}
