// An account's own event endpoints: /v1/webhook-endpoints, with the account's credentials (any
// HTTP scheme of /v1/messages). Only HTTPS to a public host (endpoint-url.ts); an account sees and
// changes only its own endpoints, and anyone else's is answered like a missing one.
import { type Context, Hono } from "hono";
import { z } from "zod";
import { selfServiceUrlProblem } from "../../core/webhooks/endpoint-url.ts";
import type { EndpointRow } from "../../db/endpoint-store.ts";
import { authenticateRequest, authRequired, challenges } from "../authenticate.ts";
import {
  createEndpoint,
  endpointCreateFields,
  endpointNotFound,
  endpointUpdate,
  endpointView,
  eventLogView,
  updateEndpoint,
} from "../endpoint-actions.ts";
import { ProblemError } from "../problem.ts";
import type { AppEnv } from "../services.ts";
import { isConfidential } from "../transport.ts";
import { parseJson } from "./parse-json.ts";
import { describeEndpointRoutes } from "./webhooks-openapi.ts";

export const endpointCreateBody = z.strictObject(endpointCreateFields);

const doc = describeEndpointRoutes(endpointCreateBody, endpointUpdate);

export const webhookEndpointRoutes = new Hono<AppEnv>();

type Ctx = Context<AppEnv>;

/** The caller's account id, and the headers its authentication asks to send back. */
async function caller(c: Ctx): Promise<{ accountId: string; headers: Record<string, string> }> {
  const services = c.get("services");
  const settings = c.get("requestSettings");
  const { identity, headers } = await authenticateRequest(c.req.raw, c.get("client"), services, settings);
  if (!identity) throw authRequired(challenges(settings, isConfidential(new URL(c.req.url))));
  if (!identity.accountId) {
    throw new ProblemError({
      slug: "no-account",
      title: "No account",
      status: 403,
      detail: "this login has no Postern account (it is verified by an external back end)",
    });
  }
  return { accountId: identity.accountId, headers };
}

async function ownEndpoint(c: Ctx, id: string, accountId: string): Promise<EndpointRow> {
  const row = await c.get("services").endpoints.get(id);
  if (!row || row.accountId !== accountId) throw endpointNotFound();
  return row;
}

function checkUrl(url: string | undefined): void {
  const problem = url === undefined ? null : selfServiceUrlProblem(url);
  if (problem) {
    throw new ProblemError({
      slug: "invalid-request",
      title: "Invalid request",
      status: 422,
      detail: `url: ${problem}`,
    });
  }
}

webhookEndpointRoutes.get("/", doc.list, async (c) => {
  const { accountId, headers } = await caller(c);
  const rows = await c.get("services").endpoints.list(accountId);
  return c.json({ endpoints: rows.map(endpointView) }, 200, headers);
});

webhookEndpointRoutes.post("/", doc.create, async (c) => {
  const { accountId, headers } = await caller(c);
  const body = await parseJson(c.req.raw, endpointCreateBody);
  checkUrl(body.url);
  return c.json(await createEndpoint(c.get("services"), accountId, body), 201, headers);
});

webhookEndpointRoutes.get("/:id", doc.get, async (c) => {
  const { accountId, headers } = await caller(c);
  return c.json(endpointView(await ownEndpoint(c, c.req.param("id"), accountId)), 200, headers);
});

webhookEndpointRoutes.patch("/:id", doc.update, async (c) => {
  const { accountId, headers } = await caller(c);
  const existing = await ownEndpoint(c, c.req.param("id"), accountId);
  const body = await parseJson(c.req.raw, endpointUpdate);
  checkUrl(body.url);
  return c.json(await updateEndpoint(c.get("services"), existing, body), 200, headers);
});

webhookEndpointRoutes.delete("/:id", doc.remove, async (c) => {
  const { accountId, headers } = await caller(c);
  const existing = await ownEndpoint(c, c.req.param("id"), accountId);
  await c.get("services").endpoints.delete(existing.id);
  return c.body(null, 204, headers);
});

webhookEndpointRoutes.get("/:id/events", doc.events, async (c) => {
  const { accountId, headers } = await caller(c);
  const existing = await ownEndpoint(c, c.req.param("id"), accountId);
  return c.json(eventLogView(await c.get("services").endpoints.events(existing.id)), 200, headers);
});
