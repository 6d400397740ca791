// The write side of accepting messages: envelopes, recipients and the idempotency answer of the
// request in one atomic batch (D1 and libsql alike).
import type { AcceptManyStore, AcceptRow, IdempotencyCompletion } from "../core/submission/accept-many.ts";
import type { Database } from "./database.ts";
import { DbIdempotencyStore } from "./idempotency-store.ts";
import { DbMessageStore } from "./message-store.ts";

export class DbSubmissionStore implements AcceptManyStore {
  readonly #db: Database;
  readonly #messages: DbMessageStore;
  readonly idempotency: DbIdempotencyStore;

  constructor(db: Database) {
    this.#db = db;
    this.#messages = new DbMessageStore(db);
    this.idempotency = new DbIdempotencyStore(db);
  }

  async insertMany(rows: AcceptRow[], completion: IdempotencyCompletion | null): Promise<void> {
    const statements = [
      ...this.#messages.insertStatements(rows),
      ...(completion ? [this.idempotency.completeStatement(completion)] : []),
    ];
    const [first, ...rest] = statements;
    if (first) await this.#db.batch([first, ...rest]);
  }

  async deleteMany(ids: string[]): Promise<void> {
    const [first, ...rest] = ids.flatMap((id) => this.#messages.deleteStatements(id));
    if (first) await this.#db.batch([first, ...rest]);
  }
}
