// The Workers entry: the HTTP API, the RPC entrypoint (PosternService), the delivery queue
// consumer and the sweeper.
import { createApp } from "../http/app.ts";
import { deliverQueued } from "../http/deliver-queued.ts";
import type { DeliveryJob, Env } from "./env.ts";
import { workerServices } from "./services.ts";

const app = createApp((env) => workerServices(env as Env));

export { PosternService } from "./postern-entrypoint.ts";

/** A due message left unqueued this long (its queue job lost) is queued again by the sweeper. */
const SWEEP_GRACE_MS = 2 * 60_000;

export async function runDelivery(ids: string[], env: Env): Promise<void> {
  await deliverQueued(ids, workerServices(env, "postern/smtp"));
}

export async function sweep(env: Env, now = Date.now()): Promise<string[]> {
  const services = workerServices(env, "postern/sweeper");
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
        console.error(
          `postern/qmgr: warning: ${message.body.id}: delivery job dead-lettered; left for the sweeper`,
        );
        message.ack();
      }
      return;
    }
    try {
      await runDelivery(
        batch.messages.map((m) => m.body.id),
        env,
      );
      batch.ackAll();
    } catch (error) {
      console.error(`postern/qmgr: warning: delivery batch failed: ${(error as Error).message}`);
      batch.retryAll({ delaySeconds: 30 });
    }
  },

  async scheduled(_controller, env, ctx) {
    ctx.waitUntil(sweep(env));
  },
} satisfies ExportedHandler<Env, DeliveryJob>;
