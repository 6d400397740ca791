// Accepted messages, their recipients and delivery attempts. Each change that spans rows is one
// batch (D1 has no interactive transactions; a batch is atomic, on D1 and on libsql alike).
import { and, asc, eq, inArray, isNotNull, isNull, lt, lte, or, sql } from "drizzle-orm";
import type { Database } from "./database.ts";
import { deliveryAttempts, type MessageState, messages, type RecipientStatus, recipients } from "./schema.ts";

export type MessageRow = typeof messages.$inferSelect;
export type RecipientRow = typeof recipients.$inferSelect;

export interface NewMessage {
  id: string;
  accountId: string | null;
  saslUsername: string | null;
  saslMethod: string | null;
  clientAddress: string;
  mailFrom: string;
  bodyKey: string | null;
  size: number;
  headerMessageId: string | null;
  eightBit: boolean;
  smtputf8: boolean;
  state: MessageState;
  stateReason: string | null;
  recipients: string[];
  recipientStatus: RecipientStatus;
  now: number;
  /** DSN parameters from the submission (RFC 3461), when given. */
  dsn?: MessageDsn;
}

export interface MessageDsn {
  ret: "FULL" | "HDRS" | null;
  envid: string | null;
  /** Per recipient, in order. */
  recipients: { notify: string | null; orcpt: string | null }[];
}

export interface AttemptOutcome {
  position: number;
  recipient: string;
  status: "sent" | "deferred" | "bounced";
  reply: string;
}

export interface AttemptRecord {
  id: string;
  relay: string;
  outcomes: AttemptOutcome[];
  now: number;
  nextAttemptAt: number | null;
}

/** Ids per IN (...) list: D1 binds at most 100 parameters per statement. */
const ID_CHUNK = 50;

export interface MessageView {
  message: MessageRow;
  recipients: RecipientRow[];
}

export class DbMessageStore {
  readonly #db: Database;

  constructor(db: Database) {
    this.#db = db;
  }

  /** Envelope and recipients in one atomic batch. */
  async insert(m: NewMessage): Promise<void> {
    const [first, ...rest] = this.insertStatements([m]);
    await this.#db.batch([first!, ...rest]);
  }

  /** Several messages in one transaction (one commit): all are stored, or none. */
  async insertMany(list: NewMessage[]): Promise<void> {
    const [first, ...rest] = this.insertStatements(list);
    if (first) await this.#db.batch([first, ...rest]);
  }

  /**
   * The statements that insert these messages and their recipients, for one batch. Rows are
   * grouped so that no statement binds more than D1's 100 parameters.
   */
  insertStatements(list: NewMessage[]) {
    const messageRows = list.map((m) => {
      const { recipients: _addresses, recipientStatus: _status, now, dsn, ...fields } = m;
      return {
        ...fields,
        dsnRet: dsn?.ret ?? null,
        dsnEnvid: dsn?.envid ?? null,
        attempts: 0,
        nextAttemptAt: m.state === "queued" ? now : null,
        leaseUntil: null,
        createdAt: now,
        updatedAt: now,
      };
    });
    const recipientRows = list.flatMap((m) =>
      m.recipients.map((address, position) => ({
        messageId: m.id,
        position,
        address,
        status: m.recipientStatus,
        lastReply: null,
        dsnNotify: m.dsn?.recipients[position]?.notify ?? null,
        dsnOrcpt: m.dsn?.recipients[position]?.orcpt ?? null,
        attempts: 0,
        updatedAt: m.now,
      })),
    );
    return [
      ...chunks(messageRows, MAX_BOUND_PARAMETERS).map((rows) => this.#db.insert(messages).values(rows)),
      ...chunks(recipientRows, MAX_BOUND_PARAMETERS).map((rows) => this.#db.insert(recipients).values(rows)),
    ];
  }

  /** The statements that remove a message with its recipients and attempts. */
  deleteStatements(id: string) {
    return [
      this.#db.delete(deliveryAttempts).where(eq(deliveryAttempts.messageId, id)),
      this.#db.delete(recipients).where(eq(recipients.messageId, id)),
      this.#db.delete(messages).where(eq(messages.id, id)),
    ];
  }

  async delete(id: string): Promise<MessageRow | null> {
    const [, , deleted] = await this.#db.batch([
      this.#db.delete(deliveryAttempts).where(eq(deliveryAttempts.messageId, id)),
      this.#db.delete(recipients).where(eq(recipients.messageId, id)),
      this.#db.delete(messages).where(eq(messages.id, id)).returning(),
    ]);
    return deleted[0] ?? null;
  }

  async view(id: string): Promise<MessageView | null> {
    const [found, rows] = await this.#db.batch([
      this.#db.select().from(messages).where(eq(messages.id, id)),
      this.#db
        .select()
        .from(recipients)
        .where(eq(recipients.messageId, id))
        .orderBy(asc(recipients.position)),
    ]);
    const message = found[0];
    return message ? { message, recipients: rows } : null;
  }

  async attempts(id: string) {
    return this.#db
      .select()
      .from(deliveryAttempts)
      .where(eq(deliveryAttempts.messageId, id))
      .orderBy(asc(deliveryAttempts.id))
      .all();
  }

  /**
   * Takes the delivery lease of a queued message, so that one worker at a time delivers it even
   * when the queue hands the same id out twice. Null: not queued, or leased elsewhere.
   */
  async claim(id: string, now: number, leaseMs: number): Promise<MessageRow | null> {
    const row = await this.#db
      .update(messages)
      .set({ leaseUntil: now + leaseMs, updatedAt: now })
      .where(
        and(
          eq(messages.id, id),
          eq(messages.state, "queued"),
          or(isNull(messages.leaseUntil), lt(messages.leaseUntil, now)),
        ),
      )
      .returning()
      .get();
    return row ?? null;
  }

  /** claim() for many ids in one statement per chunk (D1 allows 100 bound parameters). */
  async claimMany(ids: string[], now: number, leaseMs: number): Promise<MessageRow[]> {
    const claimed: MessageRow[] = [];
    for (let i = 0; i < ids.length; i += ID_CHUNK) {
      const rows = await this.#db
        .update(messages)
        .set({ leaseUntil: now + leaseMs, updatedAt: now })
        .where(
          and(
            inArray(messages.id, ids.slice(i, i + ID_CHUNK)),
            eq(messages.state, "queued"),
            or(isNull(messages.leaseUntil), lt(messages.leaseUntil, now)),
          ),
        )
        .returning()
        .all();
      claimed.push(...rows);
    }
    return claimed;
  }

  /** pendingRecipients() of many messages, in one query per chunk. */
  async pendingRecipientsOf(ids: string[]): Promise<RecipientRow[]> {
    const rows: RecipientRow[] = [];
    for (let i = 0; i < ids.length; i += ID_CHUNK) {
      rows.push(
        ...(await this.#db
          .select()
          .from(recipients)
          .where(
            and(
              inArray(recipients.messageId, ids.slice(i, i + ID_CHUNK)),
              inArray(recipients.status, ["queued", "deferred"]),
            ),
          )
          .orderBy(asc(recipients.messageId), asc(recipients.position))
          .all()),
      );
    }
    return rows;
  }

  async releaseLease(id: string): Promise<void> {
    await this.#db.update(messages).set({ leaseUntil: null }).where(eq(messages.id, id));
  }

  async pendingRecipients(id: string): Promise<RecipientRow[]> {
    return this.#db
      .select()
      .from(recipients)
      .where(and(eq(recipients.messageId, id), inArray(recipients.status, ["queued", "deferred"])))
      .orderBy(asc(recipients.position))
      .all();
  }

  /**
   * Records one delivery attempt: each recipient's outcome, the attempt log, and the message's
   * next state (done when nothing is left to deliver, else queued with its next attempt time).
   */
  async recordAttempt(input: AttemptRecord): Promise<void> {
    await this.recordAttempts([input]);
  }

  /** Several attempts in one atomic batch (one commit: the delivery agent's group commit). */
  async recordAttempts(inputs: AttemptRecord[]): Promise<void> {
    const statements = inputs.flatMap((input) => this.#attemptStatements(input));
    const [first, ...rest] = statements;
    if (first) await this.#db.batch([first, ...rest]);
  }

  #attemptStatements(input: AttemptRecord) {
    const { id, relay, outcomes, now, nextAttemptAt } = input;
    const statements = outcomes.map((o) =>
      this.#db
        .update(recipients)
        .set({
          status: o.status,
          lastReply: o.reply,
          attempts: sql`${recipients.attempts} + 1`,
          updatedAt: now,
        })
        .where(and(eq(recipients.messageId, id), eq(recipients.position, o.position))),
    );
    const log = chunks(
      outcomes.map((o) => ({
        messageId: id,
        recipient: o.recipient,
        relay,
        status: o.status,
        reply: o.reply,
        at: now,
      })),
      MAX_BOUND_PARAMETERS,
    ).map((rows) => this.#db.insert(deliveryAttempts).values(rows));
    const message = this.#db
      .update(messages)
      .set({
        state: nextAttemptAt === null ? "done" : "queued",
        attempts: sql`${messages.attempts} + 1`,
        nextAttemptAt,
        leaseUntil: null,
        updatedAt: now,
      })
      .where(eq(messages.id, id));
    return [message, ...statements, ...log];
  }

  /** Queued messages that are due but that no worker holds: their queue job may have been lost. */
  async overdue(now: number, graceMs: number, limit: number): Promise<string[]> {
    const rows = await this.#db
      .select({ id: messages.id })
      .from(messages)
      .where(
        and(
          eq(messages.state, "queued"),
          lte(messages.nextAttemptAt, now - graceMs),
          or(isNull(messages.leaseUntil), lt(messages.leaseUntil, now)),
        ),
      )
      .orderBy(asc(messages.nextAttemptAt))
      .limit(limit)
      .all();
    return rows.map((r) => r.id);
  }

  /**
   * When the next queued message becomes deliverable (due and unleased), for a poller that sleeps
   * until then; null when nothing is queued.
   */
  async earliestDue(): Promise<number | null> {
    const row = await this.#db
      .select({
        at: sql<
          number | null
        >`min(max(coalesce(${messages.nextAttemptAt}, 0), coalesce(${messages.leaseUntil}, 0)))`,
      })
      .from(messages)
      .where(eq(messages.state, "queued"))
      .get();
    return row?.at ?? null;
  }

  /**
   * Drops every delivery lease. Only for a sole owner of the database at start-up (the Node
   * runtime holding its data folder's lock): any lease then belongs to a process that died.
   */
  async releaseAllLeases(): Promise<number> {
    const rows = await this.#db
      .update(messages)
      .set({ leaseUntil: null })
      .where(and(eq(messages.state, "queued"), isNotNull(messages.leaseUntil)))
      .returning({ id: messages.id })
      .all();
    return rows.length;
  }

  /** postqueue -f: every queued message not held by a worker becomes due now. */
  async makeDueNow(now: number, limit: number): Promise<string[]> {
    const rows = await this.#db
      .update(messages)
      .set({ nextAttemptAt: now, updatedAt: now })
      .where(and(eq(messages.state, "queued"), or(isNull(messages.leaseUntil), lt(messages.leaseUntil, now))))
      .returning({ id: messages.id })
      .all();
    return rows.slice(0, limit).map((r) => r.id);
  }

  async listByState(state: MessageState, limit: number): Promise<MessageRow[]> {
    return this.#db
      .select()
      .from(messages)
      .where(eq(messages.state, state))
      .orderBy(asc(messages.createdAt))
      .limit(limit)
      .all();
  }

  /** A held message goes back to the queue (postsuper -H). Null when it was not held. */
  async releaseHeld(id: string, now: number): Promise<MessageRow | null> {
    const [released] = await this.#db.batch([
      this.#db
        .update(messages)
        .set({ state: "queued", nextAttemptAt: now, updatedAt: now })
        .where(and(eq(messages.id, id), eq(messages.state, "held")))
        .returning(),
      this.#db
        .update(recipients)
        .set({ status: "queued", updatedAt: now })
        .where(
          and(
            eq(recipients.messageId, id),
            eq(recipients.status, "held"),
            sql`exists (select 1 from messages where id = ${id} and state = 'queued')`,
          ),
        ),
    ]);
    return released[0] ?? null;
  }
}

/** D1 binds at most 100 parameters per statement. */
const MAX_BOUND_PARAMETERS = 100;

/** Groups rows so that rows x columns stays within `limit` bound parameters. */
function chunks<T extends object>(rows: T[], limit: number): T[][] {
  if (rows.length === 0) return [];
  const perStatement = Math.max(1, Math.floor(limit / Object.keys(rows[0]!).length));
  const out: T[][] = [];
  for (let i = 0; i < rows.length; i += perStatement) out.push(rows.slice(i, i + perStatement));
  return out;
}
