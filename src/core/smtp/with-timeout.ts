// Races a promise against a timer without leaving a dangling rejection behind: SMTP timeouts are
// expected outcomes (Postfix's "conversation timed out"), so they come back as values.

export type Timed<T> = { timedOut: false; value: T } | { timedOut: true };

// setTimeout fires at once for delays beyond a signed 32-bit millisecond count.
const MAX_DELAY = 2_147_483_647;

export function withTimeout<T>(promise: Promise<T>, ms: number): Promise<Timed<T>> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => resolve({ timedOut: true }), Math.min(Math.max(0, ms), MAX_DELAY));
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve({ timedOut: false, value });
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error);
      },
    );
  });
}
