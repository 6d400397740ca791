// Policy for one prepared message: the recipient limit and Postfix's restriction lists, then the
// record to store (queued, held or discarded) or the refusal, as a value.

import type { Settings } from "../../core/config/settings.ts";
import { newQueueId } from "../../core/ids.ts";
import type { TableOpener } from "../../core/ports.ts";
import { printable } from "../../core/printable.ts";
import type { AcceptRecord } from "../../core/submission/accept.ts";
import { authorizeSubmission } from "../../core/submission/authorize.ts";
import type { Challenge } from "../authenticate.ts";
import { describeClient } from "../client-info.ts";
import { ProblemError } from "../problem.ts";
import type { ClientInfo, SaslIdentity, Services } from "../services.ts";
import type { Prepared } from "./prepare.ts";

export interface SubmitContext {
  services: Services;
  settings: Settings;
  client: ClientInfo;
  sasl: SaslIdentity | null;
  /** WWW-Authenticate for a refusal of an unauthenticated client. */
  challenge: Challenge;
  /** For log lines: HTTP, or RPC for service bindings. */
  proto: string;
  /** Lookup tables for this request; default services.openTable. */
  openTable?: TableOpener;
}

export type Decision = { ok: true; record: AcceptRecord } | { ok: false; error: ProblemError };

export async function decide(prepared: Prepared, ctx: SubmitContext): Promise<Decision> {
  const { settings, client, sasl, services } = ctx;
  const recipientLimit = settings.int("smtpd_recipient_limit");
  if (prepared.recipients.length > recipientLimit) {
    return {
      ok: false,
      error: new ProblemError({
        slug: "too-many-recipients",
        title: "Too many recipients",
        status: 422,
        detail: `At most ${recipientLimit} recipients per message (smtpd_recipient_limit)`,
        smtpStatus: "5.5.3",
        smtpReply: "452 4.5.3 Error: too many recipients",
      }),
    };
  }
  const verdict = await authorizeSubmission({
    settings,
    client,
    sasl: sasl && { username: sasl.username, method: sasl.method },
    sender: prepared.mailFrom,
    recipients: prepared.recipients,
    openTable: ctx.openTable ?? ((spec) => services.openTable(spec)),
  });
  if (!verdict.ok) {
    services.logger.info(
      `NOQUEUE: ${verdict.decision}: RCPT from ${describeClient(client)}: ${verdict.replyText}; from=<${printable(prepared.mailFrom)}> to=<${printable(verdict.recipient)}> proto=${ctx.proto}`,
    );
    return { ok: false, error: refusal(verdict, sasl, ctx.challenge) };
  }
  const state = verdict.discard !== null ? "discarded" : verdict.hold !== null ? "held" : "queued";
  return {
    ok: true,
    record: {
      id: newQueueId(),
      accountId: sasl?.accountId ?? null,
      saslUsername: sasl?.username ?? null,
      saslMethod: sasl?.method ?? null,
      clientAddress: client.address,
      mailFrom: prepared.mailFrom,
      recipients: prepared.recipients,
      bytes: prepared.bytes,
      headerMessageId: prepared.headerMessageId,
      eightBit: prepared.eightBit,
      smtputf8: prepared.smtputf8,
      state,
      stateReason: verdict.discard ?? verdict.hold,
    },
  };
}

function refusal(
  verdict: { decision: "reject" | "defer"; replyText: string; enhanced: string },
  sasl: SaslIdentity | null,
  challenge: Challenge,
): ProblemError {
  if (verdict.decision === "defer") {
    return new ProblemError(
      {
        slug: "deferred",
        title: "Try again later",
        status: 503,
        detail: verdict.replyText,
        smtpStatus: verdict.enhanced,
        smtpReply: verdict.replyText,
      },
      { "retry-after": "300" },
    );
  }
  // Unauthenticated: say how to get permission (RFC 9110 §11.6.1), as 530/554 would over SMTP.
  return new ProblemError(
    {
      slug: "rejected",
      title: "Rejected by policy",
      status: sasl ? 403 : 401,
      detail: verdict.replyText,
      smtpStatus: verdict.enhanced,
      smtpReply: verdict.replyText,
    },
    sasl ? {} : { "www-authenticate": typeof challenge === "function" ? challenge() : challenge },
  );
}
