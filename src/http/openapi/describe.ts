// Short describeRoute() builders for the SASL and admin routes: the request schema is the zod
// validator the route parses with; answers are JSON objects or problem+json.
import { describeRoute, type resolver } from "hono-openapi";
import { z } from "zod";
import { jsonContent, problem } from "./schemas.ts";

type Schema = Parameters<typeof resolver>[0];

export function describeAdmin(operationId: string, summary: string, body?: Schema, ok = 200) {
  return describeRoute({
    operationId,
    tags: ["Admin"],
    summary,
    security: [{ admin: [] }],
    ...(body && { requestBody: { required: true, content: jsonContent(body) } }),
    responses: {
      [ok]: { description: "Done", content: jsonContent(z.looseObject({})) },
      401: problem("Missing or wrong admin token"),
      404: problem("Not found"),
      422: problem("Invalid request"),
    },
  });
}

const saslStep = z
  .discriminatedUnion("status", [
    z.object({
      status: z.literal("continue"),
      challenge: z.string().describe("base64"),
      continuation: z.string().describe("Sealed state to send back with the next response"),
    }),
    z.object({
      status: z.literal("authenticated"),
      login: z.string(),
      mechanism: z.string(),
      token: z.string().describe("A Postern session token for Authorization: Bearer"),
      token_type: z.literal("Bearer"),
      expires_in: z.number().int(),
      final: z.string().nullable().describe("base64 server final data (SCRAM), or null"),
    }),
  ])
  .meta({ id: "SaslStep" });

export const describeSasl = {
  list: describeRoute({
    operationId: "listSaslMechanisms",
    tags: ["Authentication"],
    summary: "Mechanisms offered on this transport",
    responses: {
      200: {
        description: "Offered mechanisms",
        content: jsonContent(
          z.object({
            mechanisms: z.array(z.string()),
            smtp_mechanisms: z
              .array(z.string())
              .describe(
                "What an SMTP front announces: no CRAM-MD5/DIGEST-MD5 while no account has a shared secret",
              ),
            tls: z.boolean(),
            backend: z.string(),
          }),
        ),
      },
    },
  }),
  step: (body: Schema) =>
    describeRoute({
      operationId: "saslStep",
      tags: ["Authentication"],
      summary: "Run a SASL exchange step by step; ends with a session token",
      requestBody: { required: true, content: jsonContent(body) },
      responses: {
        200: { description: "A challenge, or the session token", content: jsonContent(saslStep) },
        400: problem("Malformed step or continuation"),
        401: problem("Authentication failed"),
        503: problem("Temporary authentication failure"),
      },
    }),
};
