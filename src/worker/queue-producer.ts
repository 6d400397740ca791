import type { DeliveryQueue } from "../core/ports.ts";
import type { DeliveryJob } from "./env.ts";

/** Cloudflare Queues caps a delay at 24 hours; a longer wait is finished by the sweeper. */
const MAX_DELAY_SECONDS = 24 * 3600;

export class CloudflareDeliveryQueue implements DeliveryQueue {
  readonly #queue: Queue<DeliveryJob>;

  constructor(queue: Queue<DeliveryJob>) {
    this.#queue = queue;
  }

  async enqueue(messageIds: string[], delayMs = 0): Promise<void> {
    const delaySeconds = Math.min(MAX_DELAY_SECONDS, Math.ceil(delayMs / 1000));
    for (let i = 0; i < messageIds.length; i += 100) {
      const batch = messageIds.slice(i, i + 100).map((id) => ({ body: { id }, delaySeconds }));
      await this.#queue.sendBatch(batch);
    }
  }
}
