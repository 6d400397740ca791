// Accounts: the SASL logins and their SCRAM records.
import { asc, eq, sql } from "drizzle-orm";
import type { CredentialRecord } from "../core/auth/scram-record.ts";
import type { Account, AccountStore } from "../core/ports.ts";
import type { Database } from "./database.ts";
import { accounts } from "./schema.ts";

export interface AccountSummary {
  id: string;
  login: string;
  disabled: boolean;
  /** CRAM-MD5 / DIGEST-MD5 enabled: a plaintext-equivalent secret is stored (sealed). */
  sharedSecret: boolean;
  note: string | null;
  createdAt: number;
  updatedAt: number;
}

type Row = typeof accounts.$inferSelect;

const toAccount = (row: Row): Account => ({
  id: row.id,
  login: row.login,
  disabled: row.disabled,
  updatedAt: row.updatedAt,
  scram1:
    row.scram1StoredKey && row.scram1ServerKey
      ? { storedKey: row.scram1StoredKey, serverKey: row.scram1ServerKey }
      : null,
  sealedSharedSecret: row.sharedSecret,
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
  sharedSecret: row.sharedSecret !== null,
  note: row.note,
  createdAt: row.createdAt,
  updatedAt: row.updatedAt,
});

const byLogin = (login: string) => sql`lower(${accounts.login}) = ${login.toLowerCase()}`;

function credentialColumns(c: CredentialRecord) {
  return {
    scramSalt: c.salt,
    scramIterations: c.iterations,
    scramStoredKey: c.sha256.storedKey,
    scramServerKey: c.sha256.serverKey,
    scram1StoredKey: c.sha1.storedKey,
    scram1ServerKey: c.sha1.serverKey,
  };
}

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

  /** Whether any account keeps a shared secret (so CRAM-MD5 / DIGEST-MD5 can work for someone). */
  async anySharedSecret(): Promise<boolean> {
    const row = await this.#db
      .select({ id: accounts.id })
      .from(accounts)
      .where(sql`${accounts.sharedSecret} is not null`)
      .limit(1)
      .get();
    return row !== undefined;
  }

  async list(): Promise<AccountSummary[]> {
    const rows = await this.#db.select().from(accounts).orderBy(asc(accounts.login)).all();
    return rows.map(toSummary);
  }

  /** Returns null when the login is taken. `sharedSecret` is already sealed. */
  async create(input: {
    login: string;
    credential: CredentialRecord;
    sharedSecret?: string | null;
    note?: string | null;
  }): Promise<AccountSummary | null> {
    const now = Date.now();
    const row: Row = {
      id: crypto.randomUUID(),
      login: input.login,
      ...credentialColumns(input.credential),
      sharedSecret: input.sharedSecret ?? null,
      disabled: false,
      note: input.note ?? null,
      createdAt: now,
      updatedAt: now,
    };
    const inserted = await this.#db.insert(accounts).values(row).onConflictDoNothing().returning().get();
    return inserted ? toSummary(inserted) : null;
  }

  /** A new credential replaces the shared secret too: it is set (sealed) or cleared with it. */
  async update(
    id: string,
    change: {
      credential?: CredentialRecord;
      sharedSecret?: string | null;
      disabled?: boolean;
      note?: string | null;
    },
  ): Promise<AccountSummary | null> {
    const set: Partial<Row> = { updatedAt: Date.now() };
    if (change.credential) Object.assign(set, credentialColumns(change.credential));
    if (change.sharedSecret !== undefined) set.sharedSecret = change.sharedSecret;
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
