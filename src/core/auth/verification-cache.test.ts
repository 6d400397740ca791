import { describe, expect, it } from "vitest";
import { VerificationCache } from "./verification-cache.ts";

describe("VerificationCache", () => {
  it("remembers a verified (login, credential version, password) until it expires", async () => {
    let now = 1000;
    const cache = new VerificationCache({ ttlMs: 100, now: () => now });
    await cache.remember("alice", "v1", "secret");
    expect(await cache.has("alice", "v1", "secret")).toBe(true);
    now += 100;
    expect(await cache.has("alice", "v1", "secret")).toBe(false);
  });

  it("misses for another password, another credential version, or another login", async () => {
    const cache = new VerificationCache();
    await cache.remember("alice", "v1", "secret");
    expect(await cache.has("alice", "v1", "Secret")).toBe(false);
    expect(await cache.has("alice", "v2", "secret")).toBe(false);
    expect(await cache.has("bob", "v1", "secret")).toBe(false);
  });

  it("does not confuse fields that concatenate to the same text", async () => {
    const cache = new VerificationCache();
    await cache.remember("a", "b", "c");
    expect(await cache.has("a\0b", "", "c")).toBe(false);
  });

  it("stays within maxEntries, dropping the oldest", async () => {
    const cache = new VerificationCache({ maxEntries: 2 });
    await cache.remember("a", "v", "p");
    await cache.remember("b", "v", "p");
    await cache.remember("c", "v", "p");
    expect(cache.size).toBe(2);
    expect(await cache.has("a", "v", "p")).toBe(false);
    expect(await cache.has("c", "v", "p")).toBe(true);
  });
});

describe("VerificationCache per-entry lifetime", () => {
  it("stores nothing for a lifetime of 0 and honours a shorter one", async () => {
    let now = 0;
    const cache = new VerificationCache({ ttlMs: 60_000, now: () => now });
    await cache.remember("a", "v", "p", 0);
    expect(await cache.has("a", "v", "p")).toBe(false);
    await cache.remember("a", "v", "p", 10);
    now = 10;
    expect(await cache.has("a", "v", "p")).toBe(false);
  });
});
