// Response shapes for the OpenAPI document, as zod schemas beside the request validators the routes
// really use. They describe what src/http/submission/answer.ts and message-view.ts produce.
import { resolver } from "hono-openapi";
import { z } from "zod";
import { messageStates, recipientStatuses } from "../../db/schema.ts";

export const problemSchema = z
  .looseObject({
    type: z.string().describe("https://postern.dev/problems/<slug>"),
    title: z.string(),
    status: z.number().int(),
    detail: z.string().optional(),
    smtp_status: z.string().optional().describe("RFC 3463 enhanced status code, e.g. 5.7.1"),
    smtp_reply: z.string().optional().describe("The SMTP reply Postfix would have sent"),
  })
  .meta({ id: "Problem", description: "RFC 9457 problem details" });

export const acceptedSchema = z
  .object({
    id: z.string().describe("Queue id (ULID)"),
    status: z.enum(["queued", "held", "discarded"]),
  })
  .meta({ id: "Accepted" });

export const submissionAnswerSchema = z
  .discriminatedUnion("ok", [
    z.object({ ok: z.literal(true), status: z.literal(202), body: acceptedSchema }),
    z.object({ ok: z.literal(false), status: z.number().int(), body: problemSchema }),
  ])
  .meta({ id: "SubmissionAnswer", description: "The status and body POST /v1/messages would have answered" });

export const batchResultSchema = z
  .object({ results: z.array(submissionAnswerSchema).describe("One answer per message, in order") })
  .meta({ id: "BatchResult" });

export const messageViewSchema = z
  .object({
    id: z.string(),
    status: z.enum(messageStates),
    status_reason: z.string().nullable(),
    from: z.string(),
    size: z.number().int(),
    message_id: z.string().nullable(),
    created_at: z.string().nullable(),
    updated_at: z.string().nullable(),
    attempts: z.number().int(),
    recipients: z.array(
      z.object({
        address: z.string(),
        status: z.enum(recipientStatuses),
        reply: z.string().nullable(),
        attempts: z.number().int(),
        next_attempt_at: z.string().nullable(),
        updated_at: z.string().nullable(),
      }),
    ),
  })
  .meta({ id: "MessageStatus" });

export const jsonContent = (schema: Parameters<typeof resolver>[0]) => ({
  "application/json": { schema: resolver(schema) },
});

export const problem = (description: string) => ({
  description,
  content: { "application/problem+json": { schema: resolver(problemSchema) } },
});

export const idempotencyKeyParameter = {
  name: "Idempotency-Key",
  in: "header" as const,
  required: false,
  description:
    "Kept 24 h per account: a retry with the same key and body gets the first answer again (Idempotent-Replayed: true); another body gets 422; a retry while the first runs gets 409.",
  schema: { type: "string" as const, minLength: 1, maxLength: 255 },
};
