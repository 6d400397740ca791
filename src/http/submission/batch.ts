// POST /v1/messages/batch: a JSON array of up to 100 messages of the POST /v1/messages shape. Each
// message gets its own answer, in order, as the single endpoint would have given it; the accepted
// ones are stored in one write (all of them or, on a storage failure, none and a 503).
import type { Settings } from "../../core/config/settings.ts";
import { ProblemError } from "../problem.ts";
import { readLimited } from "../read-body.ts";
import { type HttpAnswer, httpAnswerOf, type Outcome } from "./answer.ts";
import { jsonLimit, parseJsonBytes } from "./prepare.ts";

/** As Resend: at most 100 messages per batch (and one queue sendBatch, one D1 batch). */
export const MAX_BATCH = 100;

/** The request: a JSON array, at most jsonLimit(message_size_limit) bytes in all. */
export async function readBatch(
  request: Request,
  settings: Settings,
): Promise<{ bytes: Uint8Array; messages: unknown[] }> {
  const cap = jsonLimit(settings.int("message_size_limit"));
  let bytes: Uint8Array;
  try {
    bytes = await readLimited(request, cap);
  } catch (error) {
    if (!(error instanceof ProblemError) || error.problem.status !== 413) throw error;
    throw new ProblemError({
      slug: "batch-too-large",
      title: "Batch too large",
      status: 413,
      detail: `A batch request is at most ${cap} bytes (message_size_limit with JSON framing); send fewer or smaller messages per request`,
      smtpStatus: "5.3.4",
    });
  }
  const messages = parseJsonBytes(bytes);
  if (!Array.isArray(messages) || messages.length === 0) {
    throw invalidBatch("The body must be a JSON array of 1 to 100 messages");
  }
  if (messages.length > MAX_BATCH) {
    throw invalidBatch(`At most ${MAX_BATCH} messages per batch; this one has ${messages.length}`);
  }
  return { bytes, messages };
}

export function batchAnswer(outcomes: Outcome[]): HttpAnswer {
  // Nothing allowed without credentials: say how to authenticate, as the single endpoint does.
  if (outcomes.every((o) => o.answer.status === 401)) return httpAnswerOf(outcomes[0]!);
  return {
    status: 200,
    headers: { "content-type": "application/json" },
    body: { results: outcomes.map((o) => o.answer) },
  };
}

function invalidBatch(detail: string): ProblemError {
  return new ProblemError({
    slug: "invalid-batch",
    title: "Invalid batch",
    status: 422,
    detail,
    smtpStatus: "5.5.2",
  });
}
