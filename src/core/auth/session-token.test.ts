import { decodeJwt, decodeProtectedHeader, SignJWT } from "jose";
import { describe, expect, it } from "vitest";
import { testSigner } from "./jwks-server.test-helper.ts";
import {
  deriveSessionKey,
  isSessionToken,
  issueSessionToken,
  SESSION_TOKEN_TYPE,
  verifySessionToken,
} from "./session-token.ts";

const key = await deriveSessionKey(new TextEncoder().encode("deployment secret, 32 bytes long"));
const otherKey = await deriveSessionKey(new TextEncoder().encode("another deployment's secret....."));
const T0 = 1_700_000_000_000;
const at = (ms: number) => ({ now: () => ms });

describe("session tokens", () => {
  it("round-trips login and mechanism with a 900 s default lifetime", async () => {
    const token = await issueSessionToken(key, {
      login: "alice@example.com",
      mechanism: "SCRAM-SHA-256",
      ...at(T0),
    });
    expect(await verifySessionToken(key, token, at(T0 + 1000))).toEqual({
      ok: true,
      login: "alice@example.com",
      mechanism: "SCRAM-SHA-256",
      issuedAt: T0,
      expiresAt: T0 + 900_000,
      jti: expect.stringMatching(/^[A-Za-z0-9_-]{22}$/),
    });
  });

  it("carries the documented header and claims", async () => {
    const token = await issueSessionToken(key, {
      login: "alice",
      mechanism: "PLAIN",
      ttlSeconds: 60,
      ...at(T0),
    });
    expect(decodeProtectedHeader(token)).toEqual({ alg: "HS256", typ: SESSION_TOKEN_TYPE });
    expect(decodeJwt(token)).toEqual({
      iss: "postern",
      aud: "postern-session",
      sub: "alice",
      mech: "PLAIN",
      iat: T0 / 1000,
      exp: T0 / 1000 + 60,
      jti: expect.any(String),
    });
  });

  it("gives every token its own jti", async () => {
    const a = decodeJwt(await issueSessionToken(key, { login: "a", mechanism: "PLAIN", ...at(T0) }));
    const b = decodeJwt(await issueSessionToken(key, { login: "a", mechanism: "PLAIN", ...at(T0) }));
    expect(a.jti).not.toBe(b.jti);
  });

  it("expires after its ttl (allowing 5 s of skew)", async () => {
    const token = await issueSessionToken(key, {
      login: "alice",
      mechanism: "PLAIN",
      ttlSeconds: 60,
      ...at(T0),
    });
    expect(await verifySessionToken(key, token, at(T0 + 64_000))).toMatchObject({ ok: true });
    expect(await verifySessionToken(key, token, at(T0 + 65_000))).toEqual({
      ok: false,
      reason: "token expired",
    });
  });

  it("refuses a ttl over an hour, and a key shorter than 32 bytes", async () => {
    await expect(
      issueSessionToken(key, { login: "a", mechanism: "PLAIN", ttlSeconds: 3601 }),
    ).rejects.toThrow(RangeError);
    await expect(issueSessionToken(key, { login: "a", mechanism: "PLAIN", ttlSeconds: 0 })).rejects.toThrow(
      RangeError,
    );
    await expect(issueSessionToken(new Uint8Array(16), { login: "a", mechanism: "PLAIN" })).rejects.toThrow(
      TypeError,
    );
  });

  it("refuses a tampered token", async () => {
    const token = await issueSessionToken(key, { login: "alice", mechanism: "PLAIN", ...at(T0) });
    const [header, , signature] = token.split(".");
    const forged = btoa(JSON.stringify({ ...decodeJwt(token), sub: "admin" }))
      .replace(/\+/g, "-")
      .replace(/\//g, "_")
      .replace(/=+$/, "");
    const result = await verifySessionToken(key, `${header}.${forged}.${signature}`, at(T0));
    expect(result).toEqual({ ok: false, reason: "signature invalid" });
  });

  it("refuses a token signed with another deployment's key", async () => {
    const token = await issueSessionToken(otherKey, { login: "alice", mechanism: "PLAIN", ...at(T0) });
    expect(await verifySessionToken(key, token, at(T0))).toEqual({ ok: false, reason: "signature invalid" });
  });

  const sign = (claims: Record<string, unknown>, header: Record<string, unknown> = {}) =>
    new SignJWT({ iss: "postern", aud: "postern-session", sub: "alice", mech: "PLAIN", jti: "j", ...claims })
      .setProtectedHeader({ alg: "HS256", typ: SESSION_TOKEN_TYPE, ...header })
      .setIssuedAt(T0 / 1000)
      .setExpirationTime(T0 / 1000 + 60)
      .sign(key);

  it.each([
    {
      name: "another algorithm with the same key (HS512)",
      claims: {},
      header: { alg: "HS512" },
      reason: "algorithm not allowed",
    },
    { name: "another issuer", claims: { iss: "https://idp.example" }, header: {}, reason: "wrong issuer" },
    { name: "another audience", claims: { aud: "postern-admin" }, header: {}, reason: "wrong audience" },
    { name: "no sub", claims: { sub: undefined }, header: {}, reason: "missing sub" },
    { name: "empty sub", claims: { sub: "" }, header: {}, reason: "bad sub" },
    { name: "no mech", claims: { mech: undefined }, header: {}, reason: "missing mech" },
    { name: "no typ", claims: {}, header: { typ: undefined }, reason: "wrong token type" },
    { name: "a plain JWT typ", claims: {}, header: { typ: "JWT" }, reason: "wrong token type" },
  ])("refuses $name", async ({ claims, header, reason }) => {
    expect(await verifySessionToken(key, await sign(claims, header), at(T0))).toEqual({ ok: false, reason });
  });

  it("refuses a token whose lifetime is longer than any it would issue", async () => {
    const token = await new SignJWT({
      iss: "postern",
      aud: "postern-session",
      sub: "a",
      mech: "PLAIN",
      jti: "j",
    })
      .setProtectedHeader({ alg: "HS256", typ: SESSION_TOKEN_TYPE })
      .setIssuedAt(T0 / 1000)
      .setExpirationTime(T0 / 1000 + 86_400)
      .sign(key);
    expect(await verifySessionToken(key, token, at(T0))).toEqual({ ok: false, reason: "bad lifetime" });
  });

  it("refuses garbage without throwing", async () => {
    for (const token of ["", "a.b.c", "x".repeat(5000), "e30.e30.e30"]) {
      expect(await verifySessionToken(key, token)).toMatchObject({ ok: false });
    }
  });
});

describe("isSessionToken", () => {
  it("routes by the unverified iss", async () => {
    const session = await issueSessionToken(key, { login: "alice", mechanism: "PLAIN" });
    const external = await (await testSigner("ES256", "k")).sign({
      iss: "https://idp.example",
      sub: "alice",
    });
    expect(isSessionToken(session)).toBe(true);
    expect(isSessionToken(external)).toBe(false);
    expect(isSessionToken("not a jwt")).toBe(false);
    expect(isSessionToken("")).toBe(false);
  });
});
