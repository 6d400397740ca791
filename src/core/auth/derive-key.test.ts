import { describe, expect, it } from "vitest";
import { deriveContinuationKey } from "./continuation.ts";
import { deriveKey } from "./derive-key.ts";
import { deriveSessionKey } from "./session-token.ts";

const hex = (bytes: Uint8Array) => Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");

describe("deriveKey (HKDF-SHA-256)", () => {
  it("matches RFC 5869 test case 3 (no salt, no info), first 32 bytes", async () => {
    const ikm = new Uint8Array(22).fill(0x0b);
    expect(hex(await deriveKey(ikm, ""))).toBe(
      "8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d",
    );
  });

  it("gives each purpose its own key from one secret", async () => {
    const secret = new TextEncoder().encode("0123456789abcdef0123456789abcdef");
    const session = await deriveSessionKey(secret);
    const continuation = await deriveContinuationKey(secret);
    expect(session).toHaveLength(32);
    expect(continuation).toHaveLength(32);
    expect(hex(session)).not.toBe(hex(continuation));
    expect(hex(await deriveSessionKey(secret))).toBe(hex(session));
    expect(hex(await deriveSessionKey(secret.map((b) => b ^ 1)))).not.toBe(hex(session));
  });

  it("refuses a short secret with ERR_CONFIG", async () => {
    await expect(deriveSessionKey(new Uint8Array(15))).rejects.toMatchObject({ code: "ERR_CONFIG" });
  });
});
