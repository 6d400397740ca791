// Webhook receivers (inbound: Supabase, Clerk, generic) and event endpoints (outbound):
// /v1/admin/webhooks/receivers and /v1/admin/webhooks/endpoints. Secrets are sealed at rest and
// shown once, when Postern makes them.
import { Hono } from "hono";
import { z } from "zod";
import { sealSecret } from "../../core/auth/secret-box.ts";
import { newWebhookSecret, secretKey } from "../../core/webhooks/standard-webhooks.ts";
import type { ReceiverRow } from "../../db/receiver-store.ts";
import { receiverKinds } from "../../db/schema.ts";
import {
  createEndpoint,
  endpointCreateFields,
  endpointUpdate,
  endpointView,
  eventLogView,
  missingSecretKey,
  randomId,
  updateEndpoint,
} from "../endpoint-actions.ts";
import { describeAdmin } from "../openapi/describe.ts";
import { ProblemError } from "../problem.ts";
import { receiverConfigs } from "../receiver-config.ts";
import type { AppEnv, Services } from "../services.ts";
import { receiverSecretContext } from "../webhook-services.ts";
import { accountOf } from "./admin-templates.ts";
import { parseJson } from "./parse-json.ts";

const secretInput = z
  .union([z.string(), z.array(z.string()).min(1).max(5)])
  // Supabase's configuration lists rotating secrets as "v1,whsec_a|v1,whsec_b".
  .transform((v) => (Array.isArray(v) ? v : [v]).flatMap((s) => s.split("|")).map((s) => s.trim()))
  .refine(
    (list) => list.every((s) => secretKey(s) !== null),
    "each secret must be whsec_<base64> (or v1,whsec_...)",
  );

const receiverCreate = z.strictObject({
  account: z.string().min(1),
  kind: z.enum(receiverKinds),
  /** The provider's signing secret(s); omitted: Postern makes one and shows it once. */
  secret: secretInput.optional(),
  config: z.record(z.string(), z.unknown()).default({}),
});
const receiverUpdate = z.strictObject({
  secret: secretInput.optional(),
  config: z.record(z.string(), z.unknown()).optional(),
  disabled: z.boolean().optional(),
});

const endpointCreate = z.strictObject({ account: z.string().min(1), ...endpointCreateFields });

/** OpenAPI descriptions (GET /openapi.json). */
const doc = {
  listReceivers: describeAdmin("listWebhookReceivers", "Inbound webhook receivers"),
  createReceiver: describeAdmin(
    "createWebhookReceiver",
    "Make a receiver (a secret made here is shown once)",
    receiverCreate,
    201,
  ),
  getReceiver: describeAdmin("getWebhookReceiver", "One receiver"),
  updateReceiver: describeAdmin(
    "updateWebhookReceiver",
    "Replace secrets or config, disable or enable",
    receiverUpdate,
  ),
  deleteReceiver: describeAdmin("deleteWebhookReceiver", "Delete a receiver", undefined, 204),
  listEndpoints: describeAdmin("adminListWebhookEndpoints", "Event endpoints (?account= filters)"),
  createEndpoint: describeAdmin(
    "adminCreateWebhookEndpoint",
    "Register an event endpoint for an account (secret shown once)",
    endpointCreate,
    201,
  ),
  getEndpoint: describeAdmin("adminGetWebhookEndpoint", "One event endpoint"),
  updateEndpoint: describeAdmin(
    "adminUpdateWebhookEndpoint",
    "Change, disable, enable or rotate an endpoint",
    endpointUpdate,
  ),
  deleteEndpoint: describeAdmin("adminDeleteWebhookEndpoint", "Delete an event endpoint", undefined, 204),
  endpointEvents: describeAdmin("adminListWebhookEndpointEvents", "An endpoint's newest events"),
};

export const adminWebhooks = new Hono<AppEnv>();

adminWebhooks.get("/receivers", doc.listReceivers, async (c) => {
  return c.json({ receivers: (await c.get("services").receivers.list()).map(receiverView) });
});

adminWebhooks.post("/receivers", doc.createReceiver, async (c) => {
  const services = c.get("services");
  const body = await parseJson(c.req.raw, receiverCreate);
  const account = await accountOf(services, body.account);
  const config = checkConfig(body.kind, body.config);
  const generated = body.secret ? null : newWebhookSecret();
  const id = `rcv_${randomId()}`;
  const sealed = await seal(services, (body.secret ?? [generated!]).join(" "), receiverSecretContext(id));
  const row = await services.receivers.create({
    id,
    accountId: account.id,
    kind: body.kind,
    secret: sealed,
    config,
  });
  return c.json({ ...receiverView(row), ...(generated ? { secret: generated } : {}) }, 201);
});

adminWebhooks.get("/receivers/:id", doc.getReceiver, async (c) => {
  const row = await c.get("services").receivers.get(c.req.param("id"));
  if (!row) throw notFound("No such receiver");
  return c.json(receiverView(row));
});

adminWebhooks.patch("/receivers/:id", doc.updateReceiver, async (c) => {
  const services = c.get("services");
  const existing = await services.receivers.get(c.req.param("id"));
  if (!existing) throw notFound("No such receiver");
  const body = await parseJson(c.req.raw, receiverUpdate);
  const change: { secret?: string; config?: string; disabled?: boolean } = { disabled: body.disabled };
  if (body.config) change.config = checkConfig(existing.kind, body.config);
  if (body.secret)
    change.secret = await seal(services, body.secret.join(" "), receiverSecretContext(existing.id));
  return c.json(receiverView((await services.receivers.update(existing.id, change))!));
});

adminWebhooks.delete("/receivers/:id", doc.deleteReceiver, async (c) => {
  if (!(await c.get("services").receivers.delete(c.req.param("id")))) throw notFound("No such receiver");
  return c.body(null, 204);
});

adminWebhooks.get("/endpoints", doc.listEndpoints, async (c) => {
  const services = c.get("services");
  const login = c.req.query("account");
  const account = login ? await accountOf(services, login) : null;
  return c.json({ endpoints: (await services.endpoints.list(account?.id)).map(endpointView) });
});

adminWebhooks.post("/endpoints", doc.createEndpoint, async (c) => {
  const services = c.get("services");
  const body = await parseJson(c.req.raw, endpointCreate);
  const account = await accountOf(services, body.account);
  return c.json(await createEndpoint(services, account.id, body), 201);
});

adminWebhooks.get("/endpoints/:id", doc.getEndpoint, async (c) => {
  const row = await c.get("services").endpoints.get(c.req.param("id"));
  if (!row) throw notFound("No such endpoint");
  return c.json(endpointView(row));
});

adminWebhooks.patch("/endpoints/:id", doc.updateEndpoint, async (c) => {
  const services = c.get("services");
  const existing = await services.endpoints.get(c.req.param("id"));
  if (!existing) throw notFound("No such endpoint");
  return c.json(await updateEndpoint(services, existing, await parseJson(c.req.raw, endpointUpdate)));
});

adminWebhooks.delete("/endpoints/:id", doc.deleteEndpoint, async (c) => {
  if (!(await c.get("services").endpoints.delete(c.req.param("id")))) throw notFound("No such endpoint");
  return c.body(null, 204);
});

/** The endpoint's newest events: what was delivered, what waits for a retry, what was given up. */
adminWebhooks.get("/endpoints/:id/events", doc.endpointEvents, async (c) => {
  const services = c.get("services");
  if (!(await services.endpoints.get(c.req.param("id")))) throw notFound("No such endpoint");
  return c.json(eventLogView(await services.endpoints.events(c.req.param("id"))));
});

function checkConfig(kind: (typeof receiverKinds)[number], config: unknown): string {
  const result = receiverConfigs[kind].safeParse(config);
  if (!result.success) {
    throw new ProblemError({
      slug: "invalid-request",
      title: "Invalid request",
      status: 422,
      detail: result.error.issues
        .map((i) => `config${i.path.map((p) => `.${String(p)}`).join("")}: ${i.message}`)
        .join("; "),
    });
  }
  return JSON.stringify(result.data);
}

async function seal(services: Services, secret: string, context: string): Promise<string> {
  if (!services.secretKeys) throw missingSecretKey();
  return sealSecret(services.secretKeys, secret, context);
}

function receiverView(row: ReceiverRow) {
  return {
    id: row.id,
    account_id: row.accountId,
    kind: row.kind,
    path: `/v1/webhooks/${row.id}`,
    config: JSON.parse(row.config) as unknown,
    disabled: row.disabled,
    created_at: row.createdAt,
    updated_at: row.updatedAt,
  };
}

function notFound(detail: string): ProblemError {
  return new ProblemError({ slug: "not-found", title: "Not found", status: 404, detail });
}
