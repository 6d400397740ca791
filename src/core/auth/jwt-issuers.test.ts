import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { type JwksServer, startJwksServer, type TestSigner, testSigner } from "./jwks-server.test-helper.ts";
import { parseJwtIssuers } from "./jwt-issuer-config.ts";
import { type BearerVerifierOptions, createBearerVerifier } from "./jwt-issuers.ts";

const ISSUER = "https://idp.example";
const nowSeconds = () => Math.floor(Date.now() / 1000);

let server: JwksServer;
let rsa: TestSigner;
let ec: TestSigner;

beforeAll(async () => {
  rsa = await testSigner("RS256", "rsa-1");
  ec = await testSigner("ES256", "ec-1");
  server = await startJwksServer([rsa.jwk, ec.jwk]);
});
afterAll(() => server.close());
afterEach(() => {
  vi.useRealTimers();
  server.setKeys([rsa.jwk, ec.jwk]);
  server.setStatus(200);
});

function config(overrides: Record<string, unknown> = {}): string {
  return JSON.stringify([
    {
      issuer: ISSUER,
      jwks_uri: server.url,
      audiences: ["postern"],
      algorithms: ["RS256", "ES256"],
      ...overrides,
    },
  ]);
}

function verifier(overrides: Record<string, unknown> = {}, options: BearerVerifierOptions = {}) {
  return createBearerVerifier(parseJwtIssuers(config(overrides)), options);
}

const claims = (extra: Record<string, unknown> = {}) => ({
  iss: ISSUER,
  aud: "postern",
  sub: "alice",
  iat: nowSeconds(),
  exp: nowSeconds() + 300,
  ...extra,
});

describe("createBearerVerifier with a remote JWKS", () => {
  it("accepts a good RS256 token and reports login, issuer and expiry", async () => {
    const token = await rsa.sign(claims({ exp: 2_000_000_000 }));
    expect(await verifier().verify(token)).toEqual({
      ok: true,
      login: "alice",
      issuer: ISSUER,
      expiresAt: 2_000_000_000_000,
    });
  });

  it("accepts ES256 from the same key set, and an audience list naming postern", async () => {
    const token = await ec.sign(claims({ aud: ["other-api", "postern"] }));
    expect(await verifier().verify(token)).toMatchObject({ ok: true, login: "alice" });
  });

  it("takes the raw postern_jwt_issuers JSON as well as parsed issuers", async () => {
    const token = await rsa.sign(claims());
    expect(await createBearerVerifier(config()).verify(token)).toMatchObject({ ok: true });
    expect(() => createBearerVerifier("[{}]")).toThrow(expect.objectContaining({ code: "ERR_CONFIG" }));
  });

  it("fetches the key set once for many verifications, concurrent ones included", async () => {
    const before = server.requests;
    const verify = verifier();
    const tokens = await Promise.all(
      Array.from({ length: 10 }, (_, i) => rsa.sign(claims({ sub: `u${i}` }))),
    );
    const results = await Promise.all(tokens.map((token) => verify.verify(token)));
    for (const token of tokens) await verify.verify(token);
    expect(results.every((result) => result.ok)).toBe(true);
    expect(server.requests - before).toBe(1);
  });

  it("picks up a rotated key once the unknown-kid cooldown has passed, not before", async () => {
    vi.useFakeTimers({ toFake: ["Date"] });
    const verify = verifier({}, { now: () => Date.now() });
    const before = server.requests;
    expect(await verify.verify(await rsa.sign(claims()))).toMatchObject({ ok: true });

    const rotated = await testSigner("RS256", "rsa-2");
    server.setKeys([rotated.jwk]);
    const token = await rotated.sign(claims({ exp: nowSeconds() + 3600 }));
    // within jose's 30 s cooldown an unknown kid does not refetch: a forged kid cannot force requests
    expect(await verify.verify(token)).toMatchObject({ ok: false, reason: "unknown signing key" });
    expect(server.requests - before).toBe(1);

    vi.setSystemTime(Date.now() + 31_000);
    expect(await verify.verify(token)).toMatchObject({ ok: true, login: "alice" });
    expect(server.requests - before).toBe(2);
    // the retired key is gone from the refreshed set
    expect(await verify.verify(await rsa.sign(claims({ exp: nowSeconds() + 3600 })))).toMatchObject({
      ok: false,
    });
  });

  it("refetches a key set older than cacheMaxAgeMs", async () => {
    vi.useFakeTimers({ toFake: ["Date"] });
    const verify = verifier({}, { now: () => Date.now(), cacheMaxAgeMs: 60_000 });
    const before = server.requests;
    const token = await rsa.sign(claims({ exp: nowSeconds() + 3600 }));
    await verify.verify(token);
    await verify.verify(token);
    expect(server.requests - before).toBe(1);
    vi.setSystemTime(Date.now() + 61_000);
    expect(await verify.verify(token)).toMatchObject({ ok: true });
    expect(server.requests - before).toBe(2);
  });

  it("uses the injected fetch for the key set", async () => {
    const spy = vi.fn<typeof fetch>((input, init) => fetch(input, init));
    await verifier({}, { fetch: spy }).verify(await rsa.sign(claims()));
    expect(spy).toHaveBeenCalledTimes(1);
    expect(String(spy.mock.calls[0]![0])).toBe(server.url);
  });

  it("reports an unreachable key set as a transient failure, not a bad token", async () => {
    server.setStatus(503);
    const result = await verifier().verify(await rsa.sign(claims()));
    expect(result).toEqual({
      ok: false,
      reason: "key set unavailable",
      status: "invalid_token",
      transient: true,
    });
  });

  it("tries each key when a token without kid matches several", async () => {
    const second = await testSigner("RS256", "rsa-3");
    const noKid = (jwk: TestSigner["jwk"]) => ({ ...jwk, kid: undefined });
    server.setKeys([noKid(rsa.jwk), noKid(second.jwk)]);
    const token = await second.sign(claims(), { kid: undefined });
    expect(await verifier().verify(token)).toMatchObject({ ok: true });
  });
});

describe("createBearerVerifier checks", () => {
  it.each([
    { name: "expired", extra: { exp: nowSeconds() - 120 }, reason: "token expired" },
    { name: "not yet valid", extra: { nbf: nowSeconds() + 120 }, reason: "token not yet valid" },
    { name: "missing exp", extra: { exp: undefined }, reason: "missing exp" },
    { name: "exp not a number", extra: { exp: "soon" }, reason: "bad exp" },
    { name: "wrong audience", extra: { aud: "another-service" }, reason: "wrong audience" },
    { name: "no audience", extra: { aud: undefined }, reason: "missing aud" },
    { name: "missing login claim", extra: { sub: undefined }, reason: "missing sub" },
    { name: "empty login claim", extra: { sub: "" }, reason: "missing sub" },
    { name: "login with a control character", extra: { sub: "alice\r\nbob" }, reason: "unusable sub" },
  ])("refuses a token that is $name", async ({ extra, reason }) => {
    const token = await rsa.sign(claims(extra));
    expect(await verifier().verify(token)).toEqual({
      ok: false,
      reason,
      status: "invalid_token",
      transient: false,
    });
  });

  it("allows the configured clock skew on exp and nbf, and no more", async () => {
    const verify = verifier({ clock_tolerance: 30 });
    expect(await verify.verify(await rsa.sign(claims({ exp: nowSeconds() - 10 })))).toMatchObject({
      ok: true,
    });
    expect(await verify.verify(await rsa.sign(claims({ nbf: nowSeconds() + 10 })))).toMatchObject({
      ok: true,
    });
    expect(await verify.verify(await rsa.sign(claims({ exp: nowSeconds() - 40 })))).toMatchObject({
      ok: false,
    });
    const strict = verifier({ clock_tolerance: 0 });
    expect(await strict.verify(await rsa.sign(claims({ exp: nowSeconds() - 10 })))).toMatchObject({
      reason: "token expired",
    });
  });

  it("checks time against the injected clock", async () => {
    const token = await rsa.sign(claims({ exp: 1_000_000_100 }));
    const at = (seconds: number) => verifier({ clock_tolerance: 0 }, { now: () => seconds * 1000 });
    expect(await at(1_000_000_000).verify(token)).toMatchObject({ ok: true });
    expect(await at(1_000_000_100).verify(token)).toMatchObject({ ok: false, reason: "token expired" });
  });

  it("refuses an algorithm the issuer is not configured for", async () => {
    const token = await ec.sign(claims());
    expect(await verifier({ algorithms: ["RS256"] }).verify(token)).toMatchObject({
      ok: false,
      reason: "algorithm not allowed",
    });
  });

  it("refuses empty, oversized and non-JWT tokens before any key work", async () => {
    const verify = verifier();
    expect(await verify.verify("")).toMatchObject({ ok: false, status: "invalid_request" });
    expect(await verify.verify("a".repeat(20_000))).toMatchObject({
      reason: "token too large",
      status: "invalid_request",
    });
    expect(await verify.verify("not-a-jwt")).toMatchObject({
      reason: "malformed token",
      status: "invalid_token",
    });
    expect(await verify.verify("e30.e30.")).toMatchObject({ reason: "missing issuer" });
  });
});

describe("login mapping", () => {
  it("maps a claim through the template", async () => {
    const verify = verifier({ login_claim: "preferred_username", login_template: "{claim}@example.com" });
    const token = await rsa.sign(claims({ preferred_username: "alice" }));
    expect(await verify.verify(token)).toMatchObject({ ok: true, login: "alice@example.com" });
  });

  it("keeps $-patterns in a claim literal", async () => {
    const verify = verifier({ login_claim: "preferred_username", login_template: "x-{claim}" });
    const token = await rsa.sign(claims({ preferred_username: "$&$'" }));
    expect(await verify.verify(token)).toMatchObject({ ok: true, login: "x-$&$'" });
  });

  it("uses email, unless the issuer says it is unverified", async () => {
    const verify = verifier({ login_claim: "email" });
    expect(await verify.verify(await rsa.sign(claims({ email: "a@example.com" })))).toMatchObject({
      ok: true,
      login: "a@example.com",
    });
    expect(
      await verify.verify(await rsa.sign(claims({ email: "a@example.com", email_verified: false }))),
    ).toMatchObject({
      ok: false,
      reason: "email not verified",
    });
    expect(await verify.verify(await rsa.sign(claims()))).toMatchObject({
      ok: false,
      reason: "missing email",
    });
  });
});

describe("static keys", () => {
  it("verifies against configured keys without fetching anything", async () => {
    const fetchSpy = vi.fn<typeof fetch>();
    const issuers = parseJwtIssuers(
      JSON.stringify([{ issuer: ISSUER, keys: [ec.jwk], audiences: ["postern"], algorithms: ["ES256"] }]),
    );
    const verify = createBearerVerifier(issuers, { fetch: fetchSpy });
    expect(await verify.verify(await ec.sign(claims()))).toMatchObject({ ok: true, login: "alice" });
    expect(await verify.verify(await rsa.sign(claims()))).toMatchObject({
      ok: false,
      reason: "algorithm not allowed",
    });
    const other = await testSigner("ES256", "ec-1"); // same kid, different key
    expect(await verify.verify(await other.sign(claims()))).toMatchObject({
      ok: false,
      reason: "signature invalid",
    });
    expect(fetchSpy).not.toHaveBeenCalled();
  });
});
