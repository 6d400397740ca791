// The Node runtime's delivery queue: no queue of its own, only a poller over the message rows.
// An accepted message is already a durable `queued` row with its next_attempt_at, so enqueue()
// just wakes the poller; the poller hands due, unleased rows to deliver() (deliverMessages, which
// claims each under a lease). Crash safety follows: a killed process loses no job, because there
// is none to lose; the row stays queued and is found again once its lease has expired (at once
// when the next process holds the data-folder lock and drops the dead one's leases).
import type { DeliveryQueue, Logger } from "../core/ports.ts";

/** What the poller reads (DbMessageStore). */
export interface DueMessages {
  /** Queued, due, unleased ids, the longest-waiting first. */
  overdue(now: number, graceMs: number, limit: number): Promise<string[]>;
  /** When the next queued message becomes deliverable; null when none is queued. */
  earliestDue(): Promise<number | null>;
}

export interface LocalQueueOptions {
  store: DueMessages;
  /** Delivers these ids (one SMTP session per route for the batch); must claim before sending. */
  deliver: (ids: string[]) => Promise<void>;
  logger: Logger;
  /** Ids per deliver() call. */
  batchSize?: number;
  /** deliver() calls in flight at once. */
  concurrency?: number;
  /** First poll interval when idle, and the shortest sleep. */
  minIdleMs?: number;
  /** The idle poll interval doubles up to this: a safety net, as enqueue() wakes the poller. */
  maxIdleMs?: number;
  /**
   * enqueue() wakes the poller this much later, so messages accepted close together go out in one
   * deliver() call (one SMTP session per route) rather than one session each. 0: at once.
   */
  gatherMs?: number;
  now?: () => number;
}

// 50 x 8: enough messages per run for several pipelined sessions and enough runs in flight that
// SMTP round trips overlap SQLite commits (npm run bench, relay phase).
const DEFAULTS = { batchSize: 50, concurrency: 8, minIdleMs: 250, maxIdleMs: 30_000, gatherMs: 10 };
/** setTimeout fires at once beyond this; a later wake-up is early, which the poll tolerates. */
const MAX_TIMER_MS = 2 ** 31 - 1;

export class LocalDeliveryQueue implements DeliveryQueue {
  readonly #store: DueMessages;
  readonly #deliver: (ids: string[]) => Promise<void>;
  readonly #logger: Logger;
  readonly #batchSize: number;
  readonly #concurrency: number;
  readonly #minIdleMs: number;
  readonly #maxIdleMs: number;
  readonly #gatherMs: number;
  readonly #now: () => number;

  /** Ids handed to a deliver() that has not returned yet. */
  readonly #inFlightIds = new Set<string>();
  readonly #running = new Set<Promise<void>>();
  #loop: Promise<void> | null = null;
  #stopping = false;
  /** Something happened (enqueue, a delivery ended) since the loop last looked. */
  #woken = false;
  #wakeSleeper: (() => void) | null = null;
  #timer: { at: number; handle: ReturnType<typeof setTimeout> } | null = null;

  constructor(options: LocalQueueOptions) {
    this.#store = options.store;
    this.#deliver = options.deliver;
    this.#logger = options.logger;
    this.#batchSize = Math.max(1, options.batchSize ?? DEFAULTS.batchSize);
    this.#concurrency = Math.max(1, options.concurrency ?? DEFAULTS.concurrency);
    this.#minIdleMs = Math.max(1, options.minIdleMs ?? DEFAULTS.minIdleMs);
    this.#maxIdleMs = Math.max(this.#minIdleMs, options.maxIdleMs ?? DEFAULTS.maxIdleMs);
    this.#gatherMs = Math.max(0, options.gatherMs ?? DEFAULTS.gatherMs);
    this.#now = options.now ?? Date.now;
  }

  /** The rows are the queue: waking the poller (now, or when a retry falls due) is all there is. */
  async enqueue(_messageIds: string[], delayMs = 0): Promise<void> {
    const wait = Math.max(delayMs, this.#gatherMs);
    if (wait <= 0) this.#wake();
    else this.#wakeAt(this.#now() + wait);
  }

  start(): void {
    if (this.#loop || this.#stopping) return;
    this.#loop = this.#run();
  }

  /** Stops polling and waits for the deliveries in flight to finish. */
  async stop(): Promise<void> {
    this.#stopping = true;
    this.#wake();
    await this.#loop;
    await Promise.allSettled([...this.#running]);
    if (this.#timer) clearTimeout(this.#timer.handle);
    this.#timer = null;
  }

  /** Ids being delivered right now (for status and tests). */
  get inFlight(): ReadonlySet<string> {
    return this.#inFlightIds;
  }

  async #run(): Promise<void> {
    let idleMs = this.#minIdleMs;
    while (!this.#stopping) {
      this.#woken = false;
      let delay: number;
      try {
        const dispatched = await this.#fill();
        if (dispatched > 0) idleMs = this.#minIdleMs;
        delay = await this.#delayBeforeNextPoll(idleMs);
      } catch (error) {
        this.#logger.warn(`warning: queue poll failed: ${describe(error)}; retrying in ${idleMs} ms`);
        delay = idleMs;
      }
      if (this.#stopping) break;
      if (await this.#sleep(delay)) idleMs = this.#minIdleMs;
      else idleMs = Math.min(this.#maxIdleMs, idleMs * 2);
    }
  }

  /** Starts deliveries for due rows while there is room; returns how many it started. */
  async #fill(): Promise<number> {
    let started = 0;
    while (!this.#stopping && this.#running.size < this.#concurrency) {
      // Rows handed out but not yet claimed still look due: ask for enough to skip them.
      const due = await this.#store.overdue(this.#now(), 0, this.#batchSize + this.#inFlightIds.size);
      const ids = due.filter((id) => !this.#inFlightIds.has(id)).slice(0, this.#batchSize);
      if (ids.length === 0) break;
      this.#launch(ids);
      started += 1;
    }
    return started;
  }

  #launch(ids: string[]): void {
    for (const id of ids) this.#inFlightIds.add(id);
    // Through a resolved promise, so that even a synchronous throw ends up in the catch below.
    const run = Promise.resolve(ids)
      .then((batch) => this.#deliver(batch))
      .catch((error: unknown) => {
        // The claimed rows keep their lease until it expires, then they are due again.
        this.#logger.warn(`warning: delivery of ${ids.length} message(s) failed: ${describe(error)}`);
      })
      .finally(() => {
        for (const id of ids) this.#inFlightIds.delete(id);
        this.#running.delete(run);
        this.#wake();
      });
    this.#running.add(run);
  }

  async #delayBeforeNextPoll(idleMs: number): Promise<number> {
    // Full: the next delivery to end wakes us.
    if (this.#running.size >= this.#concurrency) return this.#maxIdleMs;
    const earliest = await this.#store.earliestDue();
    if (earliest === null) return idleMs;
    // Due already but not taken: ours in flight (their end wakes us) or a race; look again soon.
    return Math.max(this.#minIdleMs, Math.min(idleMs, earliest - this.#now()));
  }

  /** Resolves after `ms`, or early (true) when woken. */
  #sleep(ms: number): Promise<boolean> {
    if (this.#woken || this.#stopping) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.#wakeSleeper = null;
        resolve(false);
      }, ms);
      timer.unref();
      this.#wakeSleeper = () => {
        clearTimeout(timer);
        this.#wakeSleeper = null;
        resolve(true);
      };
    });
  }

  #wake(): void {
    this.#woken = true;
    this.#wakeSleeper?.();
  }

  /** One timer, for the earliest wake-up asked for. */
  #wakeAt(at: number): void {
    if (this.#stopping || (this.#timer && this.#timer.at <= at)) return;
    if (this.#timer) clearTimeout(this.#timer.handle);
    const handle = setTimeout(
      () => {
        this.#timer = null;
        this.#wake();
      },
      Math.min(MAX_TIMER_MS, Math.max(0, at - this.#now())),
    );
    handle.unref();
    this.#timer = { at, handle };
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
