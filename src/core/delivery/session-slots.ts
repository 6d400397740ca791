// smtp_destination_concurrency_limit: at most this many sessions to one next hop at a time, across
// every delivery run of this process (Node: the poller runs several at once) or isolate (Workers).
// A run waits for a free slot rather than opening one more connection.

interface Slots {
  inUse: number;
  waiting: (() => void)[];
}

const destinations = new Map<string, Slots>();

/** Resolves once a session to `destination` may be opened; call the returned release when done. */
export async function acquireSessionSlot(destination: string, limit: number): Promise<() => void> {
  let slots = destinations.get(destination);
  if (!slots) {
    slots = { inUse: 0, waiting: [] };
    destinations.set(destination, slots);
  }
  const held = slots;
  if (held.inUse >= Math.max(1, limit)) {
    await new Promise<void>((resolve) => held.waiting.push(resolve));
  } else {
    held.inUse += 1;
  }
  let released = false;
  return () => {
    if (released) return;
    released = true;
    const next = held.waiting.shift();
    // The slot passes straight to the next waiter; otherwise it is freed.
    if (next) next();
    else {
      held.inUse -= 1;
      if (held.inUse === 0) destinations.delete(destination);
    }
  };
}
