// A RateCounter in memory, for one listener process: Postfix's anvil counts per client in fixed
// windows of anvil_rate_time_unit. Keys whose window has passed are dropped as the map grows, so
// a scan from many addresses cannot grow it without bound.
import type { Clock, RateCounter } from "./session-ports.ts";

export function memoryRateCounter(clock: Clock, maxKeys = 100_000): RateCounter {
  const windows = new Map<string, { start: number; count: number }>();
  return {
    hit(key, windowMs) {
      const now = clock.now();
      let window = windows.get(key);
      if (!window || now - window.start >= windowMs) {
        if (!window && windows.size >= maxKeys) prune(windows, now, windowMs, maxKeys);
        window = { start: now, count: 0 };
        windows.set(key, window);
      }
      window.count++;
      return window.count;
    },
  };
}

function prune(
  windows: Map<string, { start: number }>,
  now: number,
  windowMs: number,
  maxKeys: number,
): void {
  for (const [key, window] of windows) if (now - window.start >= windowMs) windows.delete(key);
  // Still full (every window live): forget the first one made, which can only let a client count
  // from zero again, never block one wrongly.
  if (windows.size >= maxKeys) {
    const first = windows.keys().next().value;
    if (first !== undefined) windows.delete(first);
  }
}
