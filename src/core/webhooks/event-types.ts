// The delivery events an account can subscribe to, and the retry schedule of their delivery.

export const EVENT_TYPES = [
  "message.accepted",
  "message.sent",
  "message.deferred",
  "message.bounced",
  "message.held",
  "auth.failed",
] as const;
export type EventType = (typeof EVENT_TYPES)[number];

export function isEventType(value: string): value is EventType {
  return (EVENT_TYPES as readonly string[]).includes(value);
}

/**
 * Standard Webhooks' suggested schedule (the Svix one): immediately, then 5 s, 5 min, 30 min,
 * 2 h, 5 h, 10 h and 10 h after each failure. Entry n is the wait before attempt n+1.
 */
export const RETRY_SCHEDULE_MS = [
  0,
  5_000,
  5 * 60_000,
  30 * 60_000,
  2 * 3600_000,
  5 * 3600_000,
  10 * 3600_000,
  10 * 3600_000,
] as const;

/** Delivered and given-up events stay visible (endpoint events) this long, then are pruned. */
export const FINISHED_EVENT_RETENTION_MS = 7 * 24 * 3600_000;

/** The wait before the next attempt after `attempts` failed ones; null when the schedule is spent. */
export function retryDelay(attempts: number): number | null {
  return RETRY_SCHEDULE_MS[attempts] ?? null;
}

/** The Standard Webhooks payload shape: type, timestamp, data. */
export function eventPayload(type: EventType, at: number, data: Record<string, unknown>): string {
  return JSON.stringify({ type, timestamp: new Date(at).toISOString(), data });
}
