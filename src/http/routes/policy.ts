// The restriction lists for one recipient, asked before any message exists: the answer an SMTP
// front (the Node adapter in upstream mode) needs at RCPT TO, where Postfix refuses a recipient.
// The same lists, tables and login as POST /v1/messages (smtpd_delay_reject semantics: sender,
// relay, recipient restrictions); the message route checks them again when the message comes.
// A decision is a 200 whatever it says; only a bad request or bad credentials are problems.
import { Hono } from "hono";
import { describeRoute } from "hono-openapi";
import { z } from "zod";
import { parseMailbox } from "../../core/mail/address.ts";
import { renderReply } from "../../core/policy/smtp-reply.ts";
import { printable } from "../../core/printable.ts";
import { restrictionPolicy } from "../../core/smtp/server/restriction-policy.ts";
import { authenticateRequest } from "../authenticate.ts";
import { describeClient } from "../client-info.ts";
import { jsonContent, problem } from "../openapi/schemas.ts";
import { ProblemError } from "../problem.ts";
import type { AppEnv } from "../services.ts";
import { parseJson } from "./parse-json.ts";

const recipientBody = z.object({
  /** The envelope sender; "" for the null sender. */
  sender: z.string().max(512),
  recipient: z.string().min(1).max(512),
  /** The HELO/EHLO name the SMTP client gave, for the log. */
  helo: z.string().max(255).optional(),
});

const decisionSchema = z
  .object({
    decision: z.enum(["permit", "reject", "defer"]),
    smtp_reply: z
      .string()
      .optional()
      .describe("With reject/defer: Postfix's reply, e.g. 554 5.7.1 <x@y>: Relay access denied"),
    smtp_status: z.string().optional().describe("With reject/defer: the RFC 3463 enhanced code"),
    reply: z.object({ code: z.number().int(), enhanced: z.string(), text: z.string() }).optional(),
    hold: z.string().optional().describe("An access table said HOLD (the message would be held)"),
    discard: z.string().optional().describe("An access table said DISCARD"),
  })
  .meta({ id: "PolicyDecision" });

/** OpenAPI description (GET /openapi.json). */
const doc = describeRoute({
  operationId: "checkRecipient",
  tags: ["Messages"],
  summary: "The restriction lists for one recipient (what SMTP answers at RCPT TO)",
  requestBody: { required: true, content: jsonContent(recipientBody) },
  responses: {
    200: {
      description: "The decision, with Postfix's reply for a refusal",
      content: jsonContent(decisionSchema),
    },
    400: problem("Malformed JSON"),
    401: problem("Authentication failed"),
    422: problem("Invalid address"),
  },
});

export const policyRoutes = new Hono<AppEnv>();

policyRoutes.post("/recipient", doc, async (c) => {
  const services = c.get("services");
  const settings = c.get("requestSettings");
  const client = c.get("client");
  const { identity: sasl, headers } = await authenticateRequest(c.req.raw, client, services, settings);
  const body = await parseJson(c.req.raw, recipientBody);
  if (body.sender !== "") checkAddress("sender", body.sender, "5.1.7");
  checkAddress("recipient", body.recipient, "5.1.3");

  const decision = await restrictionPolicy(settings, (spec) => services.openTable(spec)).recipient({
    client,
    sasl: sasl && { username: sasl.username, method: sasl.method },
    sender: body.sender,
    recipient: body.recipient,
    helo: body.helo ?? "",
  });
  for (const warning of decision.warnings) services.logger.warn(warning);
  const marks = {
    ...(decision.hold !== undefined ? { hold: decision.hold } : {}),
    ...(decision.discard !== undefined ? { discard: decision.discard } : {}),
  };
  if (decision.decision === "permit") return c.json({ decision: "permit", ...marks }, 200, headers);
  // evaluateRecipient always leaves a reply with a refusal; a missing one must still refuse.
  const reply = decision.reply ?? { code: 451, enhanced: "4.3.5", text: "Server configuration error" };
  const smtpReply = renderReply(reply);
  services.logger.info(
    `NOQUEUE: ${decision.decision}: RCPT from ${describeClient(client)}: ${smtpReply}; from=<${printable(body.sender)}> to=<${printable(body.recipient)}> proto=HTTP helo=<${printable(body.helo ?? "")}>`,
  );
  return c.json(
    {
      decision: decision.decision,
      smtp_reply: smtpReply,
      smtp_status: reply.enhanced,
      reply,
      ...marks,
    },
    200,
    headers,
  );
});

function checkAddress(field: string, address: string, enhanced: string): void {
  const parsed = parseMailbox(address);
  if (parsed.ok) return;
  const reason = `${printable(address)}: ${parsed.reason}`;
  throw new ProblemError({
    slug: "invalid-address",
    title: "Invalid address",
    status: 422,
    detail: `${field}: ${reason}`,
    smtpStatus: enhanced,
    extra: { errors: [{ field, message: reason, enhanced }] },
  });
}
