// What a submission is answered with, in one shape for HTTP, batch items and RPC: the HTTP status
// and the JSON body the single POST /v1/messages would have sent.
import type { AcceptedState } from "../../core/submission/accept.ts";
import type { StoredAnswer } from "../../core/submission/accept-many.ts";
import { type ProblemError, problemBody } from "../problem.ts";

export interface AcceptedBody {
  id: string;
  status: AcceptedState;
}

/** RFC 9457 problem details with Postern's smtp_status / smtp_reply members. */
export interface ProblemBody {
  type: string;
  title: string;
  status: number;
  detail?: string;
  smtp_status?: string;
  smtp_reply?: string;
  [member: string]: unknown;
}

export type SubmissionAnswer =
  | { ok: true; status: 202; body: AcceptedBody }
  | { ok: false; status: number; body: ProblemBody };

/** An answer with the headers HTTP would add (Location, Retry-After, WWW-Authenticate). */
export interface Outcome {
  answer: SubmissionAnswer;
  headers: Record<string, string>;
}

/** A whole HTTP answer: what is sent, and what an idempotency key keeps. */
export interface HttpAnswer {
  status: number;
  headers: Record<string, string>;
  body: unknown;
}

export function accepted(id: string, state: AcceptedState): Outcome {
  return {
    answer: { ok: true, status: 202, body: { id, status: state } },
    headers: { location: `/v1/messages/${id}` },
  };
}

export function refused(error: ProblemError): Outcome {
  return {
    answer: { ok: false, status: error.problem.status, body: problemBody(error.problem) as ProblemBody },
    headers: error.headers,
  };
}

export function httpAnswerOf(outcome: Outcome): HttpAnswer {
  return {
    status: outcome.answer.status,
    headers: {
      "content-type": outcome.answer.ok ? "application/json" : "application/problem+json",
      ...outcome.headers,
    },
    body: outcome.answer.body,
  };
}

export function toStored(answer: HttpAnswer): StoredAnswer {
  return { status: answer.status, headers: answer.headers, body: JSON.stringify(answer.body) };
}

export function fromStored(stored: StoredAnswer): HttpAnswer {
  return { status: stored.status, headers: stored.headers, body: JSON.parse(stored.body) };
}

export function toResponse(answer: HttpAnswer, extra: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(answer.body), {
    status: answer.status,
    headers: { ...answer.headers, ...extra },
  });
}
