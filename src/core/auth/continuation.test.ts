import { CompactEncrypt, decodeProtectedHeader } from "jose";
import { describe, expect, it } from "vitest";
import { deriveContinuationKey, openContinuation, sealContinuation } from "./continuation.ts";

const key = await deriveContinuationKey(new TextEncoder().encode("deployment secret, 32 bytes long"));
const otherKey = await deriveContinuationKey(new TextEncoder().encode("another deployment's secret....."));
const T0 = 1_700_000_000_000;
const at = (ms: number) => ({ now: () => ms });
const payload = {
  mech: "SCRAM-SHA-256",
  state: {
    phase: "final",
    nonce: "fyko+d2lbbFgONRv9qkxdawL",
    gs2: "n,,",
    iterations: 4096,
    ok: true,
    list: [1, "a"],
  },
  login: "alice",
};

describe("sealed continuations", () => {
  it("round-trips the mechanism, its state and the login", async () => {
    const token = await sealContinuation(key, payload, at(T0));
    expect(await openContinuation(key, token, at(T0 + 1000))).toEqual({
      ok: true,
      payload,
      expiresAt: T0 + 120_000,
      jti: expect.stringMatching(/^[A-Za-z0-9_-]{22}$/),
    });
  });

  it("leaves login out when there is none", async () => {
    const token = await sealContinuation(key, { mech: "LOGIN", state: { phase: "password" } }, at(T0));
    const opened = await openContinuation(key, token, at(T0));
    expect(opened.ok && opened.payload).toEqual({ mech: "LOGIN", state: { phase: "password" } });
  });

  it("is encrypted: the state never shows in the token", async () => {
    const token = await sealContinuation(key, payload, at(T0));
    expect(decodeProtectedHeader(token)).toEqual({
      alg: "dir",
      enc: "A256GCM",
      typ: "postern-sasl-continuation",
    });
    const decoded = token
      .split(".")
      .map((part) => {
        try {
          return atob(part.replace(/-/g, "+").replace(/_/g, "/"));
        } catch {
          return "";
        }
      })
      .join("");
    expect(decoded).not.toContain("fyko");
    expect(token).not.toContain("fyko");
  });

  it("gives every seal its own jti", async () => {
    const a = await openContinuation(key, await sealContinuation(key, payload, at(T0)), at(T0));
    const b = await openContinuation(key, await sealContinuation(key, payload, at(T0)), at(T0));
    expect(a.ok && b.ok && a.jti !== b.jti).toBe(true);
  });

  it("expires after its ttl", async () => {
    const token = await sealContinuation(key, payload, { ttlSeconds: 30, ...at(T0) });
    expect((await openContinuation(key, token, at(T0 + 29_999))).ok).toBe(true);
    expect(await openContinuation(key, token, at(T0 + 30_000))).toEqual({ ok: false, reason: "expired" });
  });

  it("refuses a ttl outside 1 to 600 seconds", async () => {
    await expect(sealContinuation(key, payload, { ttlSeconds: 601 })).rejects.toThrow(RangeError);
    await expect(sealContinuation(key, payload, { ttlSeconds: 0 })).rejects.toThrow(RangeError);
  });

  it.each([0, 1, 2, 3, 4])("refuses a token tampered in part %i", async (part) => {
    const token = await sealContinuation(key, payload, at(T0));
    const parts = token.split(".");
    const target = parts[part]!;
    // flip one base64url character (part 1 is empty for alg "dir": add one instead)
    parts[part] = target === "" ? "A" : (target[0] === "A" ? "B" : "A") + target.slice(1);
    expect(await openContinuation(key, parts.join("."), at(T0))).toEqual({ ok: false, reason: "invalid" });
  });

  it("refuses a token sealed with another key", async () => {
    const token = await sealContinuation(otherKey, payload, at(T0));
    expect(await openContinuation(key, token, at(T0))).toEqual({ ok: false, reason: "invalid" });
  });

  it("refuses a JWE under the same key that is not a continuation", async () => {
    const foreign = await new CompactEncrypt(
      new TextEncoder().encode(JSON.stringify({ ...payload, exp: 2e9, jti: "x" })),
    )
      .setProtectedHeader({ alg: "dir", enc: "A256GCM" })
      .encrypt(key);
    expect(await openContinuation(key, foreign, at(T0))).toEqual({ ok: false, reason: "invalid" });
    const shapeless = await new CompactEncrypt(new TextEncoder().encode('{"mech":1}'))
      .setProtectedHeader({ alg: "dir", enc: "A256GCM", typ: "postern-sasl-continuation" })
      .encrypt(key);
    expect(await openContinuation(key, shapeless, at(T0))).toEqual({ ok: false, reason: "invalid" });
  });

  it("calls garbage malformed without throwing", async () => {
    for (const token of ["", "abc", "a.b.c", "a.b.c.d.e.f", "x".repeat(20_000)]) {
      expect(await openContinuation(key, token, at(T0))).toEqual({ ok: false, reason: "malformed" });
    }
    expect(await openContinuation(key, "a.b.c.d.e", at(T0))).toEqual({ ok: false, reason: "invalid" });
  });
});
