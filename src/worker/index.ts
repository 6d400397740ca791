// The Workers entry: the HTTP API, the RPC entrypoint (PosternService), the delivery queue
// consumer and the sweeper.

import { FINISHED_EVENT_RETENTION_MS } from "../core/webhooks/event-types.ts";
import { SEEN_ID_RETENTION_MS } from "../core/webhooks/standard-webhooks.ts";
import { createApp } from "../http/app.ts";
import { deliverQueued } from "../http/deliver-queued.ts";
import { dispatchEvents } from "../http/dispatch-events.ts";
import type { DeliveryJob, Env } from "./env.ts";
import { wakeEvents, workerServices } from "./services.ts";

const app = createApp((env) => workerServices(env as Env));

export { PosternService } from "./postern-entrypoint.ts";

/** A due message left unqueued this long (its queue job lost) is queued again by the sweeper. */
const SWEEP_GRACE_MS = 2 * 60_000;

export async function runDelivery(ids: string[], env: Env): Promise<void> {
  await deliverQueued(ids, workerServices(env, "postern/smtp"));
}

/** Sends the due webhook events and wakes the dispatcher again when the next retry is due. */
export async function runEvents(env: Env, options: { now?: () => number } = {}): Promise<void> {
  const next = await dispatchEvents(workerServices(env, "postern/webhooks"), options);
  const now = (options.now ?? Date.now)();
  if (next !== null && next > now) await wakeEvents(env, next - now);
}

export async function sweep(env: Env, now = Date.now()): Promise<string[]> {
  const services = workerServices(env, "postern/sweeper");
  await services.receivers.forgetSeenBefore(now - SEEN_ID_RETENTION_MS);
  await services.endpoints.pruneFinished(now - FINISHED_EVENT_RETENTION_MS);
  const overdue = await services.messages.overdue(now, SWEEP_GRACE_MS, 500);
  if (overdue.length) {
    await services.queue.enqueue(overdue);
    services.logger.info(`requeued ${overdue.length} overdue message(s)`);
  }
  const expired = await services.submissions.idempotency.sweep(now);
  if (expired) services.logger.info(`removed ${expired} expired idempotency key(s)`);
  return overdue;
}

export default {
  fetch: (request, env, ctx) => app.fetch(request, env, ctx),

  async queue(batch, env) {
    if (batch.queue.endsWith("-dlq")) {
      // Delivery kept crashing for these; the rows stay queued and the sweeper retries them later.
      for (const message of batch.messages) {
        const what = message.body.events ? "event dispatch" : message.body.id;
        console.error(`postern/qmgr: warning: ${what}: delivery job dead-lettered; left for the sweeper`);
        message.ack();
      }
      return;
    }
    try {
      const ids = batch.messages.filter((m) => !m.body.events).map((m) => m.body.id);
      if (ids.length) await runDelivery(ids, env);
      if (batch.messages.some((m) => m.body.events)) await runEvents(env);
      batch.ackAll();
    } catch (error) {
      console.error(`postern/qmgr: warning: delivery batch failed: ${(error as Error).message}`);
      batch.retryAll({ delaySeconds: 30 });
    }
  },

  async scheduled(_controller, env, ctx) {
    ctx.waitUntil(sweep(env));
    ctx.waitUntil(runEvents(env));
  },
} satisfies ExportedHandler<Env, DeliveryJob>;
