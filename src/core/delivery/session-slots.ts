// smtp_destination_concurrency_limit: at most this many sessions to one next hop at a time, across
// the delivery runs that share a message store: the whole process on Node (the poller runs several
// at once), one invocation on Workers (a store is made per invocation, so no slot can outlive a
// cancelled request and block another). A run waits for a free slot rather than open one more.

interface Slots {
  inUse: number;
  waiting: (() => void)[];
}

export class SessionSlots {
  readonly #destinations = new Map<string, Slots>();

  /** Resolves once a session to `destination` may be opened; call the returned release when done. */
  async acquire(destination: string, limit: number): Promise<() => void> {
    let slots = this.#destinations.get(destination);
    if (!slots) {
      slots = { inUse: 0, waiting: [] };
      this.#destinations.set(destination, slots);
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
        if (held.inUse === 0) this.#destinations.delete(destination);
      }
    };
  }
}

const byOwner = new WeakMap<object, SessionSlots>();

/** The slots of everything that shares `owner` (the message store). */
export function sessionSlotsFor(owner: object): SessionSlots {
  let slots = byOwner.get(owner);
  if (!slots) {
    slots = new SessionSlots();
    byOwner.set(owner, slots);
  }
  return slots;
}
