// Drains the event outbox: each due row is POSTed to its endpoint, signed per Standard Webhooks
// with the endpoint's secret, under a lease so that two drainers never send the same row at once.
// 2xx: delivered. 410 Gone: the endpoint is disabled and its pending events dropped. Anything else
// (or no answer): retried on RETRY_SCHEDULE_MS, then given up. Rows go out in creation order.
import type { Logger } from "../ports.ts";
import { printable } from "../printable.ts";
import { retryDelay } from "./event-types.ts";
import { signWebhook } from "./standard-webhooks.ts";

export interface DueEvent {
  seq: number;
  id: string;
  endpointId: string;
  url: string;
  /** The endpoint's `whsec_` secret, sealed. */
  sealedSecret: string;
  payload: string;
  attempts: number;
}

export interface OutboxStore {
  claimDue(now: number, leaseMs: number, limit: number): Promise<DueEvent[]>;
  delivered(seq: number, status: number, now: number): Promise<void>;
  failed(
    seq: number,
    result: { status: number | null; error: string; nextAttemptAt: number | null; now: number },
  ): Promise<void>;
  /** 410 Gone: the endpoint is off, its pending events are dropped. */
  disableEndpoint(endpointId: string, reason: string, now: number): Promise<void>;
  /** When the next pending row is due; null when none is pending. */
  earliestDue(): Promise<number | null>;
}

export interface DispatchDeps {
  store: OutboxStore;
  openSecret: (endpointId: string, sealed: string) => Promise<string>;
  fetch: typeof fetch;
  logger: Logger;
  now?: () => number;
  /** Per request; at most the default, which the lease is sized for. */
  timeoutMs?: number;
}

const DEFAULT_TIMEOUT_MS = 15_000;
/** Rows claimed at once; they are sent one after the other. */
export const DISPATCH_BATCH = 20;
/** The lease outlasts a batch of endpoints that all time out, so no row is sent twice at once. */
export const EVENT_LEASE_MS = DISPATCH_BATCH * DEFAULT_TIMEOUT_MS + 60_000;

/** Sends what is due (up to `limit` rows); returns how many rows were tried. */
export async function dispatchDue(deps: DispatchDeps, limit = DISPATCH_BATCH): Promise<number> {
  const now = deps.now ?? Date.now;
  const due = await deps.store.claimDue(now(), EVENT_LEASE_MS, limit);
  const gone = new Set<string>();
  for (const event of due) {
    if (gone.has(event.endpointId)) continue;
    const result = await send(event, deps);
    const at = now();
    if (result.status !== null && result.status >= 200 && result.status < 300) {
      await deps.store.delivered(event.seq, result.status, at);
    } else if (result.status === 410) {
      gone.add(event.endpointId);
      deps.logger.warn(`warning: webhook endpoint ${event.endpointId} answered 410 Gone; disabled`);
      await deps.store.disableEndpoint(event.endpointId, "410 Gone", at);
    } else {
      const delay = retryDelay(event.attempts + 1);
      await deps.store.failed(event.seq, {
        status: result.status,
        error: result.error,
        nextAttemptAt: delay === null ? null : at + delay,
        now: at,
      });
      deps.logger.info(
        `event ${event.id} to endpoint ${event.endpointId}: ${result.error}; ${delay === null ? "given up" : `retry in ${delay / 1000} s`}`,
      );
    }
  }
  return due.length;
}

async function send(event: DueEvent, deps: DispatchDeps): Promise<{ status: number | null; error: string }> {
  let secret: string;
  try {
    secret = await deps.openSecret(event.endpointId, event.sealedSecret);
  } catch (error) {
    return { status: null, error: `cannot open the endpoint secret: ${(error as Error).message}` };
  }
  const timestamp = Math.floor((deps.now ?? Date.now)() / 1000);
  try {
    const response = await deps.fetch(event.url, {
      method: "POST",
      redirect: "manual",
      headers: {
        "content-type": "application/json",
        "user-agent": "Postern-Webhooks/1",
        "webhook-id": event.id,
        "webhook-timestamp": String(timestamp),
        "webhook-signature": await signWebhook(secret, event.id, timestamp, event.payload),
      },
      body: event.payload,
      signal: AbortSignal.timeout(Math.min(deps.timeoutMs ?? DEFAULT_TIMEOUT_MS, DEFAULT_TIMEOUT_MS)),
    });
    await response.body?.cancel().catch(() => {});
    return { status: response.status, error: `HTTP ${response.status}` };
  } catch (error) {
    return { status: null, error: printable((error as Error).message || String(error), 200) };
  }
}
