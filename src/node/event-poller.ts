// The Node runtime's event dispatcher loop: woken when an event is recorded, it sends what is
// due, then sleeps until the next retry is due (or a minute at most, as a safety net).
import type { Logger } from "../core/ports.ts";

const MAX_SLEEP_MS = 60_000;

export class EventPoller {
  readonly #dispatch: () => Promise<number | null>;
  readonly #logger: Logger;
  #timer: ReturnType<typeof setTimeout> | null = null;
  #running: Promise<void> | null = null;
  #again = false;
  #stopped = true;

  /** `dispatch` sends what is due and returns when the next pending event is due. */
  constructor(dispatch: () => Promise<number | null>, logger: Logger) {
    this.#dispatch = dispatch;
    this.#logger = logger;
  }

  start(): void {
    this.#stopped = false;
    this.wake();
  }

  wake(): void {
    if (this.#stopped) return;
    if (this.#running) {
      this.#again = true;
      return;
    }
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    this.#running = this.#run().finally(() => {
      this.#running = null;
      if (this.#again) {
        this.#again = false;
        this.wake();
      }
    });
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    await this.#running;
  }

  async #run(): Promise<void> {
    let next: number | null = null;
    try {
      next = await this.#dispatch();
    } catch (error) {
      this.#logger.warn(`warning: event dispatch failed: ${(error as Error).message}`);
    }
    if (this.#stopped) return;
    const wait = next === null ? MAX_SLEEP_MS : Math.min(MAX_SLEEP_MS, Math.max(0, next - Date.now()));
    this.#timer = setTimeout(() => this.wake(), wait);
    this.#timer.unref?.();
  }
}
