import { describe, expect, it } from "vitest";
import { memoryRateCounter } from "./memory-rate-counter.ts";

describe("memoryRateCounter", () => {
  it("counts per key within a window and starts over in the next", () => {
    let now = 1000;
    const counter = memoryRateCounter({ now: () => now });
    expect([counter.hit("a", 60_000), counter.hit("a", 60_000), counter.hit("b", 60_000)]).toEqual([1, 2, 1]);
    now += 59_999;
    expect(counter.hit("a", 60_000)).toBe(3);
    now += 1;
    expect(counter.hit("a", 60_000)).toBe(1);
  });

  it("stays bounded: expired windows go first, then the oldest", () => {
    let now = 0;
    const counter = memoryRateCounter({ now: () => now }, 3);
    counter.hit("a", 10);
    counter.hit("b", 10);
    counter.hit("c", 10);
    now = 5;
    expect(counter.hit("d", 10)).toBe(1); // full, nothing expired: "a" is forgotten
    expect(counter.hit("b", 10)).toBe(2);
    expect(counter.hit("a", 10)).toBe(1);
    now = 20;
    expect(counter.hit("e", 10)).toBe(1);
    expect(counter.hit("d", 10)).toBe(1);
  });
});
