import { describe, expect, it } from "vitest";
import { bytesToBase64 } from "../encoding/base64.ts";
import { isSealed, openSecret, parseKeyRing, sealedKeyId, sealSecret } from "./secret-box.ts";

const key = (fill: number) => bytesToBase64(new Uint8Array(32).fill(fill));
const AAD = "smarthost_credentials:[smtp.example.com]:587";

describe("parseKeyRing", () => {
  it("makes the first key current and keeps all keys by kid", () => {
    const ring = parseKeyRing(`k2:${key(2)}, k1:${key(1)}`);
    expect(ring.current).toBe("k2");
    expect([...ring.keys.keys()]).toEqual(["k2", "k1"]);
    expect(ring.keys.get("k1")).toEqual(new Uint8Array(32).fill(1));
  });

  it("reads the test configuration's POSTERN_SECRET_KEY", () => {
    const ring = parseKeyRing("k1:MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=");
    expect(new TextDecoder().decode(ring.keys.get("k1"))).toBe("0123456789abcdef0123456789abcdef");
  });

  it("accepts base64url keys", () => {
    const bytes = new Uint8Array(32).fill(0xfb);
    const url = bytesToBase64(bytes).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
    expect(parseKeyRing(`a:${url}`).keys.get("a")).toEqual(bytes);
  });

  const bad = [
    { name: "empty", value: "" },
    { name: "no kid", value: key(1) },
    { name: "empty kid", value: `:${key(1)}` },
    { name: "kid with a dot", value: `k.1:${key(1)}` },
    { name: "16-byte key", value: `k1:${bytesToBase64(new Uint8Array(16))}` },
    { name: "33-byte key", value: `k1:${bytesToBase64(new Uint8Array(33))}` },
    { name: "not base64", value: "k1:!!!!" },
    { name: "duplicate kid", value: `k1:${key(1)},k1:${key(2)}` },
    { name: "trailing comma", value: `k1:${key(1)},` },
  ];
  for (const { name, value } of bad) {
    it(`refuses ${name} with ERR_SECRET_KEYRING`, () => {
      expect(() => parseKeyRing(value)).toThrow(expect.objectContaining({ code: "ERR_SECRET_KEYRING" }));
    });
  }

  it("never puts key material in its errors", () => {
    const secret = bytesToBase64(new Uint8Array(16).fill(7));
    try {
      parseKeyRing(`k1:${secret}`);
      expect.unreachable();
    } catch (error) {
      expect(String((error as Error).message)).not.toContain(secret);
    }
  });
});

describe("sealSecret / openSecret", async () => {
  const ring = parseKeyRing(`k1:${key(1)}`);

  it("round-trips, including non-ASCII and empty plaintexts", async () => {
    for (const plaintext of ["hunter2", "p\u00e4ss \ud83d\udd11", "", "\ufeffleading BOM kept"]) {
      expect(await openSecret(ring, await sealSecret(ring, plaintext, AAD), AAD)).toBe(plaintext);
    }
  });

  it("produces v1.<kid>.<iv>.<ciphertext> with a 12-byte IV, fresh each time", async () => {
    const a = await sealSecret(ring, "hunter2", AAD);
    const b = await sealSecret(ring, "hunter2", AAD);
    expect(a).toMatch(/^v1\.k1\.[A-Za-z0-9_-]{16}\.[A-Za-z0-9_-]+$/);
    expect(a.split(".")[2]).not.toBe(b.split(".")[2]);
    expect(a).not.toBe(b);
    expect(a).not.toContain("hunter2");
    expect(isSealed(a)).toBe(true);
    expect(sealedKeyId(a)).toBe("k1");
  });

  it("detects a flipped ciphertext bit", async () => {
    const sealed = await sealSecret(ring, "hunter2", AAD);
    const parts = sealed.split(".");
    const ct = parts[3]!;
    parts[3] = (ct[0] === "A" ? "B" : "A") + ct.slice(1);
    await expect(openSecret(ring, parts.join("."), AAD)).rejects.toMatchObject({
      code: "ERR_SECRET_INTEGRITY",
    });
  });

  it("detects a relabelled kid even when that key exists (the header is authenticated)", async () => {
    const two = parseKeyRing(`k1:${key(1)},k2:${key(1)}`); // same key bytes under two kids
    const sealed = await sealSecret(two, "hunter2", AAD);
    await expect(openSecret(two, sealed.replace("v1.k1.", "v1.k2."), AAD)).rejects.toMatchObject({
      code: "ERR_SECRET_INTEGRITY",
    });
  });

  it("rotates: old values open with the old key, new ones are sealed with the new", async () => {
    const old = parseKeyRing(`k1:${key(1)}`);
    const sealedOld = await sealSecret(old, "old secret", AAD);
    const rotated = parseKeyRing(`k2:${key(2)},k1:${key(1)}`);
    expect(await openSecret(rotated, sealedOld, AAD)).toBe("old secret");
    const sealedNew = await sealSecret(rotated, "new secret", AAD);
    expect(sealedKeyId(sealedNew)).toBe("k2");
    await expect(openSecret(old, sealedNew, AAD)).rejects.toMatchObject({ code: "ERR_SECRET_KEY" });
  });

  it("fails with ERR_SECRET_INTEGRITY when the kid exists with different key bytes", async () => {
    const sealed = await sealSecret(ring, "hunter2", AAD);
    await expect(openSecret(parseKeyRing(`k1:${key(9)}`), sealed, AAD)).rejects.toMatchObject({
      code: "ERR_SECRET_INTEGRITY",
    });
  });

  const malformed = [
    "hunter2",
    "",
    "v2.k1.AAAAAAAAAAAAAAAA.AAAAAAAAAAAAAAAAAAAAAA",
    "v1.k1.short.AAAAAAAAAAAAAAAAAAAAAA",
  ];
  for (const value of malformed) {
    it(`refuses ${JSON.stringify(value)} with ERR_SECRET_FORMAT`, async () => {
      expect(isSealed(value)).toBe(false);
      await expect(openSecret(ring, value, AAD)).rejects.toMatchObject({ code: "ERR_SECRET_FORMAT" });
    });
  }
});
