// The submission API: POST /v1/messages (JSON or raw message/rfc822) and GET /v1/messages/{id}.
import { Hono } from "hono";
import type { Settings } from "../../core/config/settings.ts";
import { newQueueId } from "../../core/ids.ts";
import { parseMailbox } from "../../core/mail/address.ts";
import { composeMessage } from "../../core/message/compose.ts";
import { prepareRawMessage } from "../../core/message/raw.ts";
import { parseSubmission } from "../../core/message/submission-schema.ts";
import { printable } from "../../core/printable.ts";
import { acceptMessage } from "../../core/submission/accept.ts";
import { authorizeSubmission } from "../../core/submission/authorize.ts";
import { authenticateRequest, authRequired, challenges } from "../authenticate.ts";
import { describeClient } from "../client-info.ts";
import { renderMessage } from "../message-view.ts";
import { ProblemError } from "../problem.ts";
import { readLimited, tooLarge } from "../read-body.ts";
import type { AppEnv, ClientInfo, SaslIdentity, Services } from "../services.ts";
import { isConfidential } from "../transport.ts";

interface Prepared {
  mailFrom: string;
  recipients: string[];
  bytes: Uint8Array;
  headerMessageId: string | null;
  eightBit: boolean;
  smtputf8: boolean;
}

/** base64 and JSON framing around a message of message_size_limit bytes. */
const jsonLimit = (messageLimit: number) => Math.ceil(messageLimit * 1.4) + 64 * 1024;

export const messageRoutes = new Hono<AppEnv>();

messageRoutes.post("/", async (c) => {
  const services = c.get("services");
  const settings = c.get("requestSettings");
  const client = c.get("client");
  const { identity: sasl, headers } = await authenticateRequest(c.req.raw, client, services, settings);
  const limit = settings.int("message_size_limit");
  const type = (c.req.header("content-type") ?? "").split(";")[0]!.trim().toLowerCase();

  let prepared: Prepared;
  if (type === "application/json") {
    prepared = await fromJson(c.req.raw, settings, limit);
  } else if (type === "message/rfc822") {
    prepared = await fromRaw(c.req.raw, new URL(c.req.url), limit);
  } else {
    throw new ProblemError({
      slug: "unsupported-media-type",
      title: "Unsupported media type",
      status: 415,
      detail: "Send application/json or message/rfc822",
    });
  }

  const recipientLimit = settings.int("smtpd_recipient_limit");
  if (prepared.recipients.length > recipientLimit) {
    throw new ProblemError({
      slug: "too-many-recipients",
      title: "Too many recipients",
      status: 422,
      detail: `At most ${recipientLimit} recipients per message (smtpd_recipient_limit)`,
      smtpStatus: "5.5.3",
      smtpReply: "452 4.5.3 Error: too many recipients",
    });
  }

  const verdict = await authorizeSubmission({
    settings,
    client,
    sasl: sasl && { username: sasl.username, method: sasl.method },
    sender: prepared.mailFrom,
    recipients: prepared.recipients,
    openTable: (spec) => services.openTable(spec),
  });
  if (!verdict.ok) {
    services.logger.info(
      `NOQUEUE: ${verdict.decision}: RCPT from ${describeClient(client)}: ${verdict.replyText}; from=<${printable(prepared.mailFrom)}> to=<${printable(verdict.recipient)}> proto=HTTP`,
    );
    throw refusal(verdict, sasl, challenges(settings, isConfidential(new URL(c.req.url))));
  }

  const id = newQueueId();
  const state = verdict.discard !== null ? "discarded" : verdict.hold !== null ? "held" : "queued";
  await acceptMessage(
    {
      id,
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
    { store: services.messages, bodies: services.bodies, queue: services.queue, logger: services.logger },
  );
  logAccepted(services, id, client, sasl, prepared, state, verdict.discard ?? verdict.hold);
  return c.json({ id, status: state }, 202, { ...headers, location: `/v1/messages/${id}` });
});

messageRoutes.get("/:id", async (c) => {
  const services = c.get("services");
  const settings = c.get("requestSettings");
  const { identity: sasl, headers } = await authenticateRequest(
    c.req.raw,
    c.get("client"),
    services,
    settings,
  );
  if (!sasl) throw authRequired(challenges(settings, isConfidential(new URL(c.req.url))));
  const view = await services.messages.view(c.req.param("id"));
  // Someone else's message is answered exactly like a missing one.
  if (!view || !isOwner(view.message, sasl)) {
    throw new ProblemError({ slug: "not-found", title: "Not found", status: 404, detail: "No such message" });
  }
  return c.json(renderMessage(view), 200, headers);
});

async function fromJson(request: Request, settings: Settings, limit: number): Promise<Prepared> {
  const bytes = await readLimited(request, jsonLimit(limit), limit);
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(bytes));
  } catch {
    throw new ProblemError({
      slug: "malformed-request",
      title: "Malformed request",
      status: 400,
      detail: "The body is not valid UTF-8 JSON",
      smtpStatus: "5.5.2",
    });
  }
  const parsed = parseSubmission(json);
  if (!parsed.ok) {
    const first = parsed.errors[0];
    throw new ProblemError({
      slug: "invalid-message",
      title: "Invalid message",
      status: 422,
      detail: parsed.errors.map((e) => `${e.field}: ${e.message}`).join("; "),
      smtpStatus: first?.enhanced,
      extra: { errors: parsed.errors },
    });
  }
  const composed = composeMessage(parsed.value, { hostname: settings.get("myhostname") });
  if (composed.bytes.byteLength > limit) throw tooLarge(limit);
  const smtputf8 = [composed.envelope.mailFrom, ...composed.envelope.recipients].some((a) =>
    /[^\x00-\x7f]/.test(a),
  );
  return {
    mailFrom: composed.envelope.mailFrom,
    recipients: composed.envelope.recipients,
    bytes: composed.bytes,
    headerMessageId: composed.messageId,
    eightBit: composed.bytes.some((b) => b >= 0x80),
    smtputf8,
  };
}

async function fromRaw(request: Request, url: URL, limit: number): Promise<Prepared> {
  const fromParam = url.searchParams.get("from");
  if (fromParam === null)
    throw badAddress(
      "from",
      "the envelope sender is required (?from=address, or ?from=<> for the null sender)",
      "5.1.7",
    );
  const mailFrom = fromParam === "<>" ? "" : fromParam;
  if (mailFrom !== "") {
    const parsed = parseMailbox(mailFrom);
    if (!parsed.ok) throw badAddress("from", parsed.reason, "5.1.7");
  }
  const recipients: string[] = [];
  const seen = new Set<string>();
  for (const value of url.searchParams.getAll("to").flatMap((v) => v.split(","))) {
    const address = value.trim();
    if (address === "") continue;
    const parsed = parseMailbox(address);
    if (!parsed.ok) throw badAddress("to", `${printable(address)}: ${parsed.reason}`, "5.1.3");
    const folded = address.toLowerCase();
    if (!seen.has(folded)) recipients.push(address);
    seen.add(folded);
  }
  if (recipients.length === 0)
    throw badAddress("to", "at least one recipient is required (?to=address)", "5.5.1");
  const bytes = await readLimited(request, limit);
  const raw = prepareRawMessage(bytes, { maxSize: limit });
  if (!raw.ok) {
    if (raw.enhanced === "5.3.4") throw tooLarge(limit);
    throw new ProblemError({
      slug: "invalid-message",
      title: "Invalid message",
      status: 422,
      detail: raw.reason,
      smtpStatus: raw.enhanced,
    });
  }
  const smtputf8 = [mailFrom, ...recipients].some((a) => /[^\x00-\x7f]/.test(a));
  return {
    mailFrom,
    recipients,
    bytes: raw.bytes,
    headerMessageId: raw.messageId,
    eightBit: raw.eightBit,
    smtputf8,
  };
}

/** The account that submitted it; for logins without one (Dovecot), the same login. */
function isOwner(
  message: { accountId: string | null; saslUsername: string | null },
  sasl: SaslIdentity,
): boolean {
  if (message.accountId !== null || sasl.accountId !== null) return message.accountId === sasl.accountId;
  return message.saslUsername !== null && message.saslUsername.toLowerCase() === sasl.username.toLowerCase();
}

function badAddress(field: string, reason: string, enhanced: string): ProblemError {
  return new ProblemError({
    slug: "invalid-address",
    title: "Invalid address",
    status: 422,
    detail: `${field}: ${reason}`,
    smtpStatus: enhanced,
    extra: { errors: [{ field, message: reason, enhanced }] },
  });
}

function refusal(
  verdict: { decision: "reject" | "defer"; replyText: string; enhanced: string },
  sasl: SaslIdentity | null,
  challenge: string,
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
    sasl ? {} : { "www-authenticate": challenge },
  );
}

function logAccepted(
  services: Services,
  id: string,
  client: ClientInfo,
  sasl: SaslIdentity | null,
  prepared: Prepared,
  state: string,
  reason: string | null,
): void {
  const auth = sasl ? `, sasl_method=${sasl.method}, sasl_username=${printable(sasl.username)}` : "";
  services.logger.info(`${id}: client=${describeClient(client)}${auth}`);
  if (prepared.headerMessageId)
    services.logger.info(`${id}: message-id=${printable(prepared.headerMessageId)}`);
  services.logger.info(
    `${id}: from=<${printable(prepared.mailFrom)}>, size=${prepared.bytes.byteLength}, nrcpt=${prepared.recipients.length} (queue ${state === "queued" ? "active" : state})`,
  );
  if (state !== "queued")
    services.logger.info(`${id}: ${state === "held" ? "hold" : "discard"}: ${reason ?? ""}`);
}
