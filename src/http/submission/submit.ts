// Submits prepared messages: policy for each on its own, then one durable write for every accepted
// one (with the idempotency answer when a key is held), then the Postfix-shaped log lines. The
// answer is built before the write so that an idempotency key stores exactly what is sent.
import { printable } from "../../core/printable.ts";
import type { AcceptRecord } from "../../core/submission/accept.ts";
import { acceptMany } from "../../core/submission/accept-many.ts";
import { memoized } from "../../core/submission/authorize.ts";
import { describeClient } from "../client-info.ts";
import { ProblemError } from "../problem.ts";
import { accepted, type HttpAnswer, type Outcome, refused, toStored } from "./answer.ts";
import { decide, type SubmitContext } from "./decide.ts";
import type { HeldKey } from "./idempotency.ts";
import type { Prepared } from "./prepare.ts";

export interface Submitted {
  answer: HttpAnswer;
  /** True when the answer was stored under the idempotency key together with the messages. */
  stored: boolean;
}

export async function submitMessages(
  ctx: SubmitContext,
  items: Array<Prepared | ProblemError>,
  held: HeldKey | null,
  shape: (outcomes: Outcome[]) => HttpAnswer,
): Promise<Submitted> {
  const outcomes: Outcome[] = [];
  const records: AcceptRecord[] = [];
  // The messages of one request see one snapshot of the tables: a batch from one sender asks
  // smtpd_sender_login_maps once, not once per message.
  const tables = memoized((spec) => ctx.services.openTable(spec));
  ctx = { ...ctx, openTable: tables };
  for (const item of items) {
    if (item instanceof ProblemError) {
      outcomes.push(refused(item));
      continue;
    }
    const decision = await decide(item, ctx);
    if (!decision.ok) {
      outcomes.push(refused(decision.error));
      continue;
    }
    records.push(decision.record);
    outcomes.push(accepted(decision.record.id, decision.record.state));
  }
  const answer = shape(outcomes);
  if (records.length === 0) return { answer, stored: false };
  const { services } = ctx;
  const completion = held ? { ...held, answer: toStored(answer) } : null;
  await acceptMany(
    records,
    { store: services.submissions, bodies: services.bodies, queue: services.queue, logger: services.logger },
    completion,
  );
  for (const record of records) logAccepted(ctx, record);
  await services.events.acceptedMany(records.map(({ bytes, ...r }) => ({ ...r, size: bytes.byteLength })));
  return { answer, stored: completion !== null };
}

function logAccepted(ctx: SubmitContext, record: AcceptRecord): void {
  const { services, client, sasl } = ctx;
  const { id } = record;
  const auth = sasl ? `, sasl_method=${sasl.method}, sasl_username=${printable(sasl.username)}` : "";
  services.logger.info(`${id}: client=${describeClient(client)}${auth}`);
  if (record.headerMessageId) services.logger.info(`${id}: message-id=${printable(record.headerMessageId)}`);
  services.logger.info(
    `${id}: from=<${printable(record.mailFrom)}>, size=${record.bytes.byteLength}, nrcpt=${record.recipients.length} (queue ${record.state === "queued" ? "active" : record.state})`,
  );
  if (record.state !== "queued")
    services.logger.info(
      `${id}: ${record.state === "held" ? "hold" : "discard"}: ${record.stateReason ?? ""}`,
    );
}
