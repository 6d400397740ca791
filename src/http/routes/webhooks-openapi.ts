// OpenAPI descriptions of the public webhook routes: the inbound receivers and an account's own
// event endpoints. Request schemas are the validators the routes parse with.
import { describeRoute } from "hono-openapi";
import { z } from "zod";
import { jsonContent, problem } from "../openapi/schemas.ts";

const accountSecurity: Record<string, string[]>[] = [{ basic: [] }, { bearer: [] }];

const endpointSchema = z
  .object({
    id: z.string(),
    account_id: z.string(),
    url: z.string(),
    events: z.array(z.string()).nullable().describe("null: every event type"),
    disabled: z.boolean(),
    disabled_reason: z.string().nullable().describe('"410 Gone" when the endpoint asked to stop'),
    created_at: z.number().int(),
    updated_at: z.number().int(),
    secret: z.string().optional().describe("whsec_ signing secret: only when made (create, rotate_secret)"),
  })
  .meta({ id: "WebhookEndpoint" });

const eventLogSchema = z
  .object({
    events: z.array(
      z.object({
        id: z.string().describe("The webhook-id header"),
        type: z.string(),
        state: z.enum(["pending", "delivered", "failed"]),
        attempts: z.number().int(),
        next_attempt_at: z.number().int().nullable(),
        last_status: z.number().int().nullable(),
        last_error: z.string().nullable(),
        created_at: z.number().int(),
      }),
    ),
  })
  .meta({ id: "WebhookEventLog" });

const endpointErrors = {
  401: problem("Authentication required or failed"),
  403: problem("The login has no Postern account"),
  404: problem("No such endpoint (or not the account's)"),
  422: problem("Invalid request (e.g. a URL that is not https to a public host)"),
};

const describeEndpoint = (
  operationId: string,
  summary: string,
  ok: number,
  schema: z.ZodType,
  body?: z.ZodType,
) =>
  describeRoute({
    operationId,
    tags: ["Webhooks"],
    summary,
    security: accountSecurity,
    ...(body && { requestBody: { required: true, content: jsonContent(body) } }),
    responses: { [ok]: { description: "Done", content: jsonContent(schema) }, ...endpointErrors },
  });

export function describeEndpointRoutes(createBody: z.ZodType, updateBody: z.ZodType) {
  return {
    list: describeEndpoint(
      "listWebhookEndpoints",
      "The account's event endpoints",
      200,
      z.object({ endpoints: z.array(endpointSchema) }),
    ),
    create: describeEndpoint(
      "createWebhookEndpoint",
      "Register an event endpoint (the secret is shown once)",
      201,
      endpointSchema,
      createBody,
    ),
    get: describeEndpoint("getWebhookEndpoint", "One event endpoint", 200, endpointSchema),
    update: describeEndpoint(
      "updateWebhookEndpoint",
      "Change, disable, enable or rotate the secret of an endpoint",
      200,
      endpointSchema,
      updateBody,
    ),
    remove: describeRoute({
      operationId: "deleteWebhookEndpoint",
      tags: ["Webhooks"],
      summary: "Delete an event endpoint and its pending events",
      security: accountSecurity,
      responses: { 204: { description: "Deleted" }, ...endpointErrors },
    }),
    events: describeEndpoint(
      "listWebhookEndpointEvents",
      "The endpoint's newest events and their delivery state",
      200,
      eventLogSchema,
    ),
  };
}

export const describeReceiver = describeRoute({
  operationId: "receiveWebhook",
  tags: ["Webhooks"],
  summary: "Inbound webhook (Supabase Send Email Hook, Clerk email.created, generic)",
  description:
    "Signed per Standard Webhooks (webhook-id, webhook-timestamp, webhook-signature; svix-* accepted) with the receiver's secret, at most 5 minutes off; a webhook-id is taken once. Supabase receivers answer 200 {} and errors as {error:{http_code,message}}.",
  parameters: ["webhook-id", "webhook-timestamp", "webhook-signature"].map((name) => ({
    name,
    in: "header" as const,
    required: true,
    schema: { type: "string" as const },
  })),
  requestBody: { required: true, content: jsonContent(z.looseObject({}).describe("The provider's payload")) },
  responses: {
    200: {
      description: "Accepted (Supabase), or a webhook-id seen before",
      content: jsonContent(z.looseObject({})),
    },
    202: {
      description: "Accepted: the queue ids of the messages made",
      content: jsonContent(z.object({ messages: z.array(z.string()) })),
    },
    400: problem("The payload does not fit the receiver"),
    401: problem("Bad signature, missing headers or a stale timestamp"),
    403: problem("Refused by the account's policy"),
    404: problem("No such receiver"),
    422: problem("Template missing, or a placeholder without a value"),
    503: problem("Deferred by policy or storage unavailable; nothing was sent"),
  },
});
