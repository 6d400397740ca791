// Postfix's retry schedule: the wait doubles with each failed attempt, from minimal_backoff_time
// up to maximal_backoff_time; after maximal_queue_lifetime a deferred recipient is bounced.

export interface BackoffPolicy {
  minimalMs: number;
  maximalMs: number;
  queueLifetimeMs: number;
}

/** Delay before the next attempt, after `attempts` failed attempts (1 = the first failure). */
export function backoffDelay(policy: BackoffPolicy, attempts: number): number {
  const doubled = policy.minimalMs * 2 ** Math.max(0, Math.min(attempts - 1, 30));
  return Math.max(policy.minimalMs, Math.min(policy.maximalMs, doubled));
}

export function hasExpired(policy: BackoffPolicy, createdAt: number, now: number): boolean {
  return now - createdAt >= policy.queueLifetimeMs;
}
