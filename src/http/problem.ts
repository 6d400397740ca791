// RFC 9457 problem details, carrying the SMTP reply and enhanced status code (RFC 3463) that a
// Postfix front end would have given for the same refusal.

export interface Problem {
  /** A stable slug; the `type` URI is built from it. */
  slug: string;
  title: string;
  status: number;
  detail?: string;
  /** RFC 3463 enhanced status code, e.g. "5.7.8". */
  smtpStatus?: string;
  /** The full SMTP reply line Postfix would have sent, e.g. "554 5.7.1 <x@y>: Relay access denied". */
  smtpReply?: string;
  extra?: Record<string, unknown>;
}

export const PROBLEM_BASE = "https://postern.dev/problems/";

/** The problem+json object (RFC 9457 members plus smtp_status / smtp_reply). */
export function problemBody(problem: Problem): Record<string, unknown> {
  const body: Record<string, unknown> = {
    type: PROBLEM_BASE + problem.slug,
    title: problem.title,
    status: problem.status,
  };
  if (problem.detail !== undefined) body.detail = problem.detail;
  if (problem.smtpStatus !== undefined) body.smtp_status = problem.smtpStatus;
  if (problem.smtpReply !== undefined) body.smtp_reply = problem.smtpReply;
  Object.assign(body, problem.extra);
  return body;
}

export function problemResponse(problem: Problem, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(problemBody(problem)), {
    status: problem.status,
    headers: { "content-type": "application/problem+json", ...headers },
  });
}

/** An exception that route code throws to answer with a problem. */
export class ProblemError extends Error {
  readonly problem: Problem;
  readonly headers: Record<string, string>;
  constructor(problem: Problem, headers: Record<string, string> = {}) {
    super(problem.detail ?? problem.title);
    this.problem = problem;
    this.headers = headers;
  }
}
