// A message made by a webhook receiver, submitted as the receiver's account through the same path
// as POST /v1/messages: the JSON submission checks, compose, the restriction lists (the account's
// login is the SASL identity, so sender ownership and check_sasl_access apply), acceptMessage.
import type { Settings } from "../core/config/settings.ts";
import { newQueueId } from "../core/ids.ts";
import { composeMessage } from "../core/message/compose.ts";
import { parseSubmission } from "../core/message/submission-schema.ts";
import { printable } from "../core/printable.ts";
import { type AcceptedState, acceptMessage } from "../core/submission/accept.ts";
import { authorizeSubmission } from "../core/submission/authorize.ts";
import { describeClient } from "./client-info.ts";
import { ProblemError } from "./problem.ts";
import type { ClientInfo, Services } from "./services.ts";

/** How webhook submissions appear in log lines and on the message (sasl_method=WEBHOOK). */
export const WEBHOOK_METHOD = "WEBHOOK";

export interface WebhookSubmission {
  from: string;
  to: string[];
  subject: string;
  text?: string | undefined;
  html?: string | undefined;
}

export interface Prepared {
  mailFrom: string;
  recipients: string[];
  bytes: Uint8Array;
  headerMessageId: string | null;
}

/** Checks and composes; throws a 422 problem naming the field when the message is unusable. */
export function prepareSubmission(submission: WebhookSubmission, settings: Settings): Prepared {
  const parsed = parseSubmission({
    from: submission.from,
    to: submission.to,
    subject: submission.subject,
    ...(submission.text !== undefined ? { text: submission.text } : {}),
    ...(submission.html !== undefined ? { html: submission.html } : {}),
  });
  if (!parsed.ok) {
    throw new ProblemError({
      slug: "invalid-message",
      title: "Invalid message",
      status: 422,
      detail: parsed.errors.map((e) => `${e.field}: ${e.message}`).join("; "),
      smtpStatus: parsed.errors[0]?.enhanced,
      extra: { errors: parsed.errors },
    });
  }
  const composed = composeMessage(parsed.value, { hostname: settings.get("myhostname") });
  const limit = settings.int("message_size_limit");
  if (composed.bytes.byteLength > limit) {
    throw new ProblemError({
      slug: "message-too-large",
      title: "Message too large",
      status: 413,
      detail: `Message size exceeds fixed limit of ${limit} bytes (message_size_limit)`,
      smtpStatus: "5.3.4",
    });
  }
  return {
    mailFrom: composed.envelope.mailFrom,
    recipients: composed.envelope.recipients,
    bytes: composed.bytes,
    headerMessageId: composed.messageId,
  };
}

/** Runs the restriction lists for the account; throws 403 (reject) or 503 (defer) problems. */
export async function authorizeAsAccount(
  services: Services,
  settings: Settings,
  client: ClientInfo,
  login: string,
  prepared: Prepared,
): Promise<{ state: AcceptedState; reason: string | null }> {
  const recipientLimit = settings.int("smtpd_recipient_limit");
  if (prepared.recipients.length > recipientLimit) {
    throw new ProblemError({
      slug: "too-many-recipients",
      title: "Too many recipients",
      status: 422,
      detail: `At most ${recipientLimit} recipients per message (smtpd_recipient_limit)`,
      smtpStatus: "5.5.3",
    });
  }
  const verdict = await authorizeSubmission({
    settings,
    client,
    sasl: { username: login, method: WEBHOOK_METHOD },
    sender: prepared.mailFrom,
    recipients: prepared.recipients,
    openTable: (spec) => services.openTable(spec),
  });
  if (!verdict.ok) {
    services.logger.info(
      `NOQUEUE: ${verdict.decision}: RCPT from ${describeClient(client)}: ${verdict.replyText}; from=<${printable(prepared.mailFrom)}> to=<${printable(verdict.recipient)}> proto=HTTP`,
    );
    const defer = verdict.decision === "defer";
    throw new ProblemError(
      {
        slug: defer ? "deferred" : "rejected",
        title: defer ? "Try again later" : "Rejected by policy",
        status: defer ? 503 : 403,
        detail: verdict.replyText,
        smtpStatus: verdict.enhanced,
        smtpReply: verdict.replyText,
      },
      defer ? { "retry-after": "300" } : {},
    );
  }
  const state = verdict.discard !== null ? "discarded" : verdict.hold !== null ? "held" : "queued";
  return { state, reason: verdict.discard ?? verdict.hold };
}

/** Stores and queues an authorized message; returns its queue id. */
export async function acceptAsAccount(
  services: Services,
  client: ClientInfo,
  account: { id: string; login: string },
  prepared: Prepared,
  decision: { state: AcceptedState; reason: string | null },
): Promise<string> {
  const id = newQueueId();
  await acceptMessage(
    {
      id,
      accountId: account.id,
      saslUsername: account.login,
      saslMethod: WEBHOOK_METHOD,
      clientAddress: client.address,
      mailFrom: prepared.mailFrom,
      recipients: prepared.recipients,
      bytes: prepared.bytes,
      headerMessageId: prepared.headerMessageId,
      eightBit: prepared.bytes.some((b) => b >= 0x80),
      smtputf8: [prepared.mailFrom, ...prepared.recipients].some((a) => /[^\x00-\x7f]/.test(a)),
      state: decision.state,
      stateReason: decision.reason,
    },
    {
      store: services.messages,
      bodies: services.bodies,
      queue: services.queue,
      logger: services.logger,
      events: services.events,
    },
  );
  const log = services.logger;
  log.info(
    `${id}: client=${describeClient(client)}, sasl_method=${WEBHOOK_METHOD}, sasl_username=${printable(account.login)}`,
  );
  if (prepared.headerMessageId) log.info(`${id}: message-id=${printable(prepared.headerMessageId)}`);
  log.info(
    `${id}: from=<${printable(prepared.mailFrom)}>, size=${prepared.bytes.byteLength}, nrcpt=${prepared.recipients.length} (queue ${decision.state === "queued" ? "active" : decision.state})`,
  );
  if (decision.state !== "queued") {
    log.info(`${id}: ${decision.state === "held" ? "hold" : "discard"}: ${decision.reason ?? ""}`);
  }
  return id;
}
