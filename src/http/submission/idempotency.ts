// Idempotency-Key (draft-ietf-httpapi-idempotency-key-header; Resend and Stripe semantics): the
// first request with a key runs and its answer is kept 24 h for that account; a retry with the
// same key and the same request gets that answer again (Idempotent-Replayed: true), a different
// request with the key gets 422, and a retry while the first still runs gets 409. Answers that
// mean "nothing happened, try again" (5xx, 401, 409, 429) are not kept: the key is freed.
import type { DbIdempotencyStore } from "../../db/idempotency-store.ts";
import { ProblemError } from "../problem.ts";
import type { ClientInfo, SaslIdentity } from "../services.ts";
import { fromStored, type HttpAnswer, httpAnswerOf, refused, toStored } from "./answer.ts";

/** A key this request holds: the write that accepts its messages stores the answer with it. */
export interface HeldKey {
  scope: string;
  key: string;
  token: string;
}

export interface IdempotentRequest {
  scope: string;
  key: string;
  /** SHA-256 of what was asked (see requestHash). */
  hash: string;
}

const MAX_KEY_LENGTH = 255;

/** The Idempotency-Key header: null when absent; a plain or sf-string-quoted token. */
export function readIdempotencyKey(headers: Headers): string | null {
  const raw = headers.get("idempotency-key");
  if (raw === null) return null;
  return checkKey(raw.trim().replace(/^"(.*)"$/, "$1"));
}

export function checkKey(key: string): string {
  if (key.length === 0 || key.length > MAX_KEY_LENGTH || !/^[\x20-\x7e]+$/.test(key)) {
    throw new ProblemError({
      slug: "invalid-idempotency-key",
      title: "Invalid Idempotency-Key",
      status: 400,
      detail: `An Idempotency-Key is 1 to ${MAX_KEY_LENGTH} printable ASCII characters`,
    });
  }
  return key;
}

/** Keys are per account (or per login, or per client address when unauthenticated). */
export function idempotencyScope(sasl: SaslIdentity | null, client: ClientInfo): string {
  if (sasl?.accountId) return `account:${sasl.accountId}`;
  if (sasl) return `login:${sasl.username.toLowerCase()}`;
  return `client:${client.address}`;
}

/** SHA-256 (hex) over the route, the parts that change the request's meaning, and the body. */
export async function requestHash(parts: string[], body: Uint8Array): Promise<string> {
  const head = new TextEncoder().encode(`${parts.join("\n")}\n\n`);
  const all = new Uint8Array(head.byteLength + body.byteLength);
  all.set(head);
  all.set(body, head.byteLength);
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", all));
  return Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("");
}

const keepable = (status: number) => status < 500 && ![401, 408, 409, 429].includes(status);

export async function withIdempotency(
  store: DbIdempotencyStore,
  request: IdempotentRequest | null,
  run: (held: HeldKey | null) => Promise<{ answer: HttpAnswer; stored: boolean }>,
  now = Date.now(),
): Promise<HttpAnswer> {
  if (!request) return (await run(null)).answer;
  const { scope, key } = request;
  const reservation = await store.reserve(scope, key, request.hash, now);
  switch (reservation.kind) {
    case "replay": {
      const answer = fromStored(reservation.answer);
      return { ...answer, headers: { ...answer.headers, "idempotent-replayed": "true" } };
    }
    case "mismatch":
      return httpAnswerOf(
        refused(
          new ProblemError({
            slug: "idempotency-key-reused",
            title: "Idempotency-Key reused",
            status: 422,
            detail: "This Idempotency-Key was used with a different request in the last 24 hours",
          }),
        ),
      );
    case "in-flight":
      return httpAnswerOf(
        refused(
          new ProblemError(
            {
              slug: "idempotency-key-in-use",
              title: "Request in progress",
              status: 409,
              detail: "A request with this Idempotency-Key is still being processed; retry shortly",
            },
            { "retry-after": "1" },
          ),
        ),
      );
  }
  const held = { scope, key, token: reservation.token };
  let result: { answer: HttpAnswer; stored: boolean };
  try {
    result = await run(held);
  } catch (error) {
    await store.release(scope, key, held.token).catch(() => {});
    throw error;
  }
  if (!result.stored) {
    if (keepable(result.answer.status)) {
      await store.complete({ ...held, answer: toStored(result.answer) });
    } else await store.release(scope, key, held.token);
  }
  return result.answer;
}
