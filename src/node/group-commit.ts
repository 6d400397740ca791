// Group commit for the SMTP listener: the envelopes of messages that finish at about the same time
// (in the same turn of the event loop) are written in one SQLite transaction, so one commit, one
// WAL fsync, makes all of them durable. Each insert() resolves only after that commit, so a 250 still
// means on disk. If the shared transaction fails, each message is retried on its own, so one bad
// row does not fail the others.
import type { AcceptStore } from "../core/submission/accept.ts";
import type { NewMessage } from "../db/message-store.ts";

export interface BatchingMessageStore {
  insert(message: NewMessage): Promise<void>;
  insertMany(messages: NewMessage[]): Promise<void>;
  delete(id: string): Promise<unknown>;
}

interface Waiting {
  message: NewMessage;
  resolve: () => void;
  reject: (error: unknown) => void;
}

const DEFAULT_MAX_BATCH = 64;

export class GroupCommitStore implements AcceptStore {
  readonly #store: BatchingMessageStore;
  readonly #maxBatch: number;
  #waiting: Waiting[] = [];
  #scheduled = false;

  constructor(store: BatchingMessageStore, options: { maxBatch?: number } = {}) {
    this.#store = store;
    this.#maxBatch = Math.max(1, options.maxBatch ?? DEFAULT_MAX_BATCH);
  }

  insert(message: NewMessage): Promise<void> {
    return new Promise((resolve, reject) => {
      this.#waiting.push({ message, resolve, reject });
      this.#schedule();
    });
  }

  delete(id: string): Promise<unknown> {
    return this.#store.delete(id);
  }

  #schedule(): void {
    if (this.#scheduled) return;
    this.#scheduled = true;
    // After the I/O callbacks of this turn: the messages they finished join the same commit.
    setImmediate(() => {
      this.#scheduled = false;
      void this.#flush();
    });
  }

  async #flush(): Promise<void> {
    const batch = this.#waiting.splice(0, this.#maxBatch);
    if (this.#waiting.length > 0) this.#schedule();
    if (batch.length === 1) return this.#one(batch[0]!);
    try {
      await this.#store.insertMany(batch.map((waiting) => waiting.message));
    } catch {
      for (const waiting of batch) await this.#one(waiting);
      return;
    }
    for (const waiting of batch) waiting.resolve();
  }

  async #one(waiting: Waiting): Promise<void> {
    try {
      await this.#store.insert(waiting.message);
      waiting.resolve();
    } catch (error) {
      waiting.reject(error);
    }
  }
}
