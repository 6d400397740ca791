// The queue (mailq / postsuper / postqueue -f of Postern): list, inspect, release held mail,
// delete, and flush deferred mail now.
import { Hono } from "hono";
import { messageStates } from "../../db/schema.ts";
import { renderMessage } from "../message-view.ts";
import { describeAdmin } from "../openapi/describe.ts";
import { ProblemError } from "../problem.ts";
import type { AppEnv } from "../services.ts";

/** OpenAPI descriptions (GET /openapi.json). */
const doc = {
  list: describeAdmin("listQueue", "List messages by state (mailq)"),
  flush: describeAdmin("flushQueue", "Retry deferred mail now (postqueue -f)"),
  show: describeAdmin("getQueuedMessage", "Show a message with its attempts"),
  release: describeAdmin("releaseMessage", "Release a held message (postsuper -H)"),
  remove: describeAdmin("deleteMessage", "Delete a message (postsuper -d)"),
};

export const adminQueue = new Hono<AppEnv>();

adminQueue.get("/", doc.list, async (c) => {
  const state = c.req.query("state") ?? "queued";
  if (!(messageStates as readonly string[]).includes(state)) {
    throw new ProblemError({
      slug: "invalid-request",
      title: "Invalid state",
      status: 422,
      detail: `state is one of ${messageStates.join(", ")}`,
    });
  }
  const rows = await c.get("services").messages.listByState(state as (typeof messageStates)[number], 500);
  return c.json({
    messages: rows.map((m) => ({
      id: m.id,
      status: m.state,
      status_reason: m.stateReason,
      from: m.mailFrom,
      sasl_username: m.saslUsername,
      size: m.size,
      attempts: m.attempts,
      next_attempt_at: m.nextAttemptAt === null ? null : new Date(m.nextAttemptAt).toISOString(),
      created_at: new Date(m.createdAt).toISOString(),
    })),
  });
});

adminQueue.post("/flush", doc.flush, async (c) => {
  const services = c.get("services");
  const ids = await services.messages.makeDueNow(Date.now(), 1000);
  if (ids.length) await services.queue.enqueue(ids);
  return c.json({ flushed: ids.length });
});

adminQueue.get("/:id", doc.show, async (c) => {
  const services = c.get("services");
  const view = await services.messages.view(c.req.param("id"));
  if (!view) throw notFound();
  const attempts = await services.messages.attempts(view.message.id);
  return c.json({
    ...renderMessage(view),
    sasl_username: view.message.saslUsername,
    client_address: view.message.clientAddress,
    attempts_log: attempts.map((a) => ({ ...a, at: new Date(a.at).toISOString() })),
  });
});

adminQueue.post("/:id/release", doc.release, async (c) => {
  const services = c.get("services");
  const released = await services.messages.releaseHeld(c.req.param("id"), Date.now());
  if (!released)
    throw new ProblemError({
      slug: "not-held",
      title: "Not held",
      status: 409,
      detail: "The message is not on hold",
    });
  await services.queue.enqueue([released.id]);
  services.logger.info(`${released.id}: released from hold`);
  return c.json({ id: released.id, status: "queued" });
});

adminQueue.delete("/:id", doc.remove, async (c) => {
  const services = c.get("services");
  const deleted = await services.messages.delete(c.req.param("id"));
  if (!deleted) throw notFound();
  if (deleted.bodyKey) await services.bodies.delete(deleted.bodyKey);
  services.logger.info(`${deleted.id}: removed`);
  return c.body(null, 204);
});

function notFound(): ProblemError {
  return new ProblemError({ slug: "not-found", title: "Not found", status: 404, detail: "No such message" });
}
