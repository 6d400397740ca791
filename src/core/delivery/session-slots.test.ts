import { describe, expect, it } from "vitest";
import { SessionSlots, sessionSlotsFor } from "./session-slots.ts";

describe("smtp_destination_concurrency_limit slots", () => {
  it("hands out at most `limit` per destination; a release passes the slot to the next waiter", async () => {
    const slots = new SessionSlots();
    const acquireSessionSlot = (destination: string, limit: number) => slots.acquire(destination, limit);
    const order: string[] = [];
    const a = await acquireSessionSlot("smtp:h[h]:587", 2);
    const b = await acquireSessionSlot("smtp:h[h]:587", 2);
    const other = await acquireSessionSlot("smtp:other[other]:587", 2);
    const c = acquireSessionSlot("smtp:h[h]:587", 2).then((release) => {
      order.push("c");
      return release;
    });
    await Promise.resolve();
    await Promise.resolve();
    expect(order).toEqual([]);
    a();
    a(); // a second release of the same slot changes nothing
    const releaseC = await c;
    expect(order).toEqual(["c"]);
    const d = acquireSessionSlot("smtp:h[h]:587", 2).then((release) => {
      order.push("d");
      return release;
    });
    await Promise.resolve();
    expect(order).toEqual(["c"]);
    b();
    (await d)();
    releaseC();
    other();
    expect(order).toEqual(["c", "d"]);
    // Every slot is free again: two at once without waiting.
    const [x, y] = await Promise.all([
      acquireSessionSlot("smtp:h[h]:587", 2),
      acquireSessionSlot("smtp:h[h]:587", 2),
    ]);
    x();
    y();
  });

  it("one set of slots per store: runs over the same store share it, another store has its own", () => {
    const store = {};
    expect(sessionSlotsFor(store)).toBe(sessionSlotsFor(store));
    expect(sessionSlotsFor({})).not.toBe(sessionSlotsFor(store));
  });
});
