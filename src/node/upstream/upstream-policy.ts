// RCPT TO in upstream mode: the restriction lists run on the gateway (POST /v1/policy/recipient),
// with the session's login, so sender ownership, relay permission and access actions refuse a
// recipient where Postfix does, at RCPT time, in Postfix's words. The gateway checks them again
// when the message arrives. When it cannot be asked, the recipient is deferred (451 4.3.0):
// whatever went wrong, it must not turn into a permit, nor into a 5xx.
import type { RecipientDecision } from "../../core/policy/evaluate-recipient.ts";
import { makeReply, type SmtpReply } from "../../core/policy/smtp-reply.ts";
import type { PolicyPort } from "../../core/smtp/server/index.ts";
import { type GatewayClient, GatewayUnavailable } from "./gateway-client.ts";
import { AUTH_EXPIRED, problemOf, replyForProblem } from "./gateway-reply.ts";
import type { GatewayLogin } from "./upstream-auth.ts";

/** Postfix's answer when a lookup it needs fails for now. */
const lookupFailure = (recipient: string): SmtpReply => ({
  code: 451,
  enhanced: "4.3.0",
  text: `<${recipient}>: Temporary lookup failure`,
});

export interface UpstreamPolicyOptions {
  gateway: GatewayClient;
  /** The session's gateway login (null before AUTH). */
  login(): GatewayLogin | null;
  now?: () => number;
}

export function upstreamPolicyPort(options: UpstreamPolicyOptions): PolicyPort {
  const now = options.now ?? Date.now;
  return {
    async recipient(request): Promise<RecipientDecision> {
      const defer = (reply: SmtpReply, warning?: string): RecipientDecision => ({
        decision: "defer",
        reply,
        warnings: warning ? [warning] : [],
      });
      const login = request.sasl ? options.login() : null;
      if (request.sasl && !login) return defer(lookupFailure(request.recipient), "warning: no gateway login");
      if (login && login.expiresAt <= now()) return defer({ ...AUTH_EXPIRED });
      let response: Awaited<ReturnType<GatewayClient["request"]>>;
      try {
        response = await options.gateway.request({
          method: "POST",
          path: "/v1/policy/recipient",
          headers: {
            "content-type": "application/json",
            ...(login ? { authorization: `Bearer ${login.token}` } : {}),
          },
          body: JSON.stringify({ sender: request.sender, recipient: request.recipient, helo: request.helo }),
        });
      } catch (error) {
        if (!(error instanceof GatewayUnavailable)) throw error;
        return defer(lookupFailure(request.recipient), `warning: ${error.message}`);
      }
      if (response.status !== 200) {
        const problem = problemOf(response);
        const reply = replyForProblem(problem, {
          sentToken: login !== null,
          fallback: lookupFailure(request.recipient),
        });
        const warning = `warning: policy check at ${options.gateway.origin}: ${problem.status} ${problem.slug ?? ""}`;
        return { decision: reply.code >= 500 ? "reject" : "defer", reply, warnings: [warning] };
      }
      return decisionOf(response.json, request.recipient);
    },
  };
}

function decisionOf(json: unknown, recipient: string): RecipientDecision {
  const body = (json ?? {}) as Record<string, unknown>;
  const marks = {
    ...(typeof body.hold === "string" ? { hold: body.hold } : {}),
    ...(typeof body.discard === "string" ? { discard: body.discard } : {}),
  };
  if (body.decision === "permit") return { decision: "permit", ...marks, warnings: [] };
  const reply = body.reply as Partial<SmtpReply> | undefined;
  if ((body.decision === "reject" || body.decision === "defer") && reply) {
    const checked = makeReply(Number(reply.code), String(reply.enhanced), String(reply.text ?? ""));
    // A reject is 5xx and a defer 4xx, whatever the answer's code says.
    const decision = checked.code >= 500 ? "reject" : "defer";
    if (decision === body.decision) return { decision, reply: checked, ...marks, warnings: [] };
  }
  return {
    decision: "defer",
    reply: lookupFailure(recipient),
    warnings: ["warning: the gateway's policy answer does not parse"],
  };
}
