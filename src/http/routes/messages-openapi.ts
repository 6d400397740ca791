// OpenAPI descriptions of the message routes; the request schema is the validator itself.
import { describeRoute } from "hono-openapi";
import { z } from "zod";
import { submissionSchema } from "../../core/message/submission-schema.ts";
import {
  acceptedSchema,
  batchResultSchema,
  idempotencyKeyParameter,
  jsonContent,
  messageViewSchema,
  problem,
} from "../openapi/schemas.ts";

const security: Record<string, string[]>[] = [{ basic: [] }, { bearer: [] }, {}];

const refusals = {
  400: problem("Malformed request or Idempotency-Key"),
  401: problem("Authentication required or failed (WWW-Authenticate says how)"),
  403: problem("Refused by policy (sender ownership, relay, access maps)"),
  409: problem("A request with this Idempotency-Key is still in progress"),
  413: problem("Over message_size_limit"),
  415: problem("Unsupported media type"),
  422: problem("Invalid message, or an Idempotency-Key reused with another request"),
  503: problem("Deferred by policy or storage temporarily unavailable; nothing was accepted"),
};

export const describeMessageRoutes = {
  submit: describeRoute({
    operationId: "sendMessage",
    tags: ["Messages"],
    summary: "Submit a message",
    description:
      "JSON (composed by Postern) or a raw message/rfc822 with the envelope in ?from= and ?to=. 202 means stored durably and queued.",
    security,
    parameters: [
      idempotencyKeyParameter,
      {
        name: "from",
        in: "query",
        required: false,
        description: "Raw only: envelope sender (<> for null)",
        schema: { type: "string" },
      },
      {
        name: "to",
        in: "query",
        required: false,
        description: "Raw only: a recipient (repeat, or comma-separated)",
        schema: { type: "string" },
      },
    ],
    requestBody: {
      required: true,
      content: {
        ...jsonContent(submissionSchema),
        "message/rfc822": { schema: { type: "string", format: "binary" } },
      },
    },
    responses: {
      202: {
        description: "Accepted: stored and queued (or held / discarded by policy)",
        content: jsonContent(acceptedSchema),
      },
      ...refusals,
    },
  }),
  batch: describeRoute({
    operationId: "sendBatch",
    tags: ["Messages"],
    summary: "Submit up to 100 messages",
    description:
      "Each message is checked and answered on its own, in order; the accepted ones are stored in one write. A storage failure answers 503 for the whole batch with nothing accepted.",
    security,
    parameters: [idempotencyKeyParameter],
    requestBody: {
      required: true,
      content: jsonContent(z.array(submissionSchema).min(1).max(100)),
    },
    responses: {
      200: { description: "One answer per message", content: jsonContent(batchResultSchema) },
      ...refusals,
    },
  }),
  status: describeRoute({
    operationId: "getMessage",
    tags: ["Messages"],
    summary: "Status of a message, per recipient",
    security: [{ basic: [] }, { bearer: [] }],
    responses: {
      200: { description: "The message and its recipients", content: jsonContent(messageViewSchema) },
      401: problem("Authentication required"),
      404: problem("No such message (or not yours)"),
    },
  }),
};
