import { describe, expect, it } from "vitest";
import { RETRY_SCHEDULE_MS, retryDelay } from "./event-types.ts";

describe("retry schedule", () => {
  it("is Standard Webhooks': now, 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h, then nothing", () => {
    expect(RETRY_SCHEDULE_MS.map((ms) => ms / 1000)).toEqual([0, 5, 300, 1800, 7200, 18000, 36000, 36000]);
    expect(retryDelay(1)).toBe(5000);
    expect(retryDelay(7)).toBe(36_000_000);
    expect(retryDelay(8)).toBeNull();
  });
});
