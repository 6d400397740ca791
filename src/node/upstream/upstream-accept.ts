// The end of DATA in upstream mode: the message, byte for byte (with this adapter's Received:
// header), goes to the gateway as POST /v1/messages (message/rfc822, the envelope in the query),
// authenticated as the SMTP login with its session token. The client hears 250 with the
// gateway's queue id only after the gateway answered 202, which means it stored the message
// durably; any other outcome is a refusal in Postfix's words, and the gateway being unreachable
// or too slow is a 451 4.3.0, so the client keeps the message and tries again.
import type { SmtpReply } from "../../core/policy/smtp-reply.ts";
import type { Logger } from "../../core/ports.ts";
import { printable } from "../../core/printable.ts";
import type { AcceptPort } from "../../core/smtp/server/index.ts";
import { type GatewayClient, GatewayUnavailable } from "./gateway-client.ts";
import { AUTH_EXPIRED, problemOf, replyForProblem } from "./gateway-reply.ts";
import type { GatewayLogin } from "./upstream-auth.ts";

/** Postfix's words when the message could not be stored (here: handed on). */
const NOT_STORED: Readonly<SmtpReply> = Object.freeze({
  code: 451,
  enhanced: "4.3.0",
  text: "Error: queue file write error",
});

export interface UpstreamAcceptOptions {
  gateway: GatewayClient;
  logger: Logger;
  /** The session's gateway login (null without AUTH). */
  login(): GatewayLogin | null;
  now?: () => number;
}

export function upstreamAcceptPort(options: UpstreamAcceptOptions): AcceptPort {
  const { gateway, logger } = options;
  const now = options.now ?? Date.now;
  return {
    async accept(envelope, message) {
      const local = envelope.queueId;
      const login = envelope.sasl ? options.login() : null;
      if (envelope.sasl && !login) return { ok: false, reply: { ...NOT_STORED } };
      if (login && login.expiresAt <= now()) return { ok: false, reply: { ...AUTH_EXPIRED } };
      const query = new URLSearchParams({ from: envelope.sender === "" ? "<>" : envelope.sender });
      for (const recipient of envelope.recipients) query.append("to", recipient.address);
      let response: Awaited<ReturnType<GatewayClient["request"]>>;
      try {
        response = await gateway.request({
          method: "POST",
          path: `/v1/messages?${query}`,
          headers: {
            "content-type": "message/rfc822",
            // A request sent again (a kept-alive connection reset) is answered as the first one
            // by a gateway that keeps Idempotency-Key answers.
            "idempotency-key": `postern-smtp-${local}`,
            ...(login ? { authorization: `Bearer ${login.token}` } : {}),
          },
          body: message,
        });
      } catch (error) {
        if (!(error instanceof GatewayUnavailable)) throw error;
        logger.warn(`warning: ${local}: not forwarded: ${printable(error.message)}`);
        return { ok: false, reply: { ...NOT_STORED } };
      }
      const id = (response.json as { id?: unknown } | null)?.id;
      if (response.status === 202 && typeof id === "string" && id !== "") {
        const from = `from=<${printable(envelope.sender)}>, size=${message.byteLength}`;
        logger.info(
          `${local}: ${from}, nrcpt=${envelope.recipients.length} (forwarded to ${gateway.origin} as ${printable(id)})`,
        );
        return { ok: true, queueId: printable(id, 64) };
      }
      const problem = problemOf(response);
      const reply =
        response.status === 202
          ? { ...NOT_STORED } // accepted without an id: nothing we can vouch for (should not happen)
          : replyForProblem(problem, { sentToken: login !== null, fallback: NOT_STORED });
      logger.warn(
        `warning: ${local}: the gateway answered ${problem.status} ${problem.slug ?? ""}: ${reply.code} ${reply.enhanced}`,
      );
      return { ok: false, reply };
    },
  };
}
