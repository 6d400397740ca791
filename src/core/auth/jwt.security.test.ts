// Attacks on bearer JWTs (RFC 8725): unsigned tokens, algorithm confusion, tokens minted for
// another service or by another issuer, expired tokens, forged key ids that try to make Postern
// hammer the issuer, and header tricks that point verification at the attacker's own keys.
import { exportJWK, exportSPKI, generateKeyPair, SignJWT } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type JwksServer,
  startJwksServer,
  type TestSigner,
  testSigner,
  unsecuredJwt,
} from "./jwks-server.test-helper.ts";
import { parseJwtIssuers } from "./jwt-issuer-config.ts";
import { type BearerVerifier, createBearerVerifier } from "./jwt-issuers.ts";
import { deriveSessionKey, isSessionToken, issueSessionToken, verifySessionToken } from "./session-token.ts";

const A = "https://a.idp.example";
const B = "https://b.idp.example";
const now = () => Math.floor(Date.now() / 1000);
const claims = (extra: Record<string, unknown> = {}) => ({
  iss: A,
  aud: "postern",
  sub: "alice",
  iat: now(),
  exp: now() + 300,
  ...extra,
});

let serverA: JwksServer;
let serverB: JwksServer;
let attackerServer: JwksServer;
let keyA: TestSigner;
let keyB: TestSigner;
let attacker: TestSigner;
let verifier: BearerVerifier;

beforeAll(async () => {
  keyA = await testSigner("RS256", "a-1");
  keyB = await testSigner("RS256", "b-1");
  attacker = await testSigner("RS256", "a-1"); // claims issuer A's kid
  serverA = await startJwksServer([keyA.jwk]);
  serverB = await startJwksServer([keyB.jwk]);
  attackerServer = await startJwksServer([attacker.jwk]);
  verifier = createBearerVerifier(
    parseJwtIssuers(
      JSON.stringify([
        { issuer: A, jwks_uri: serverA.url, audiences: ["postern"], algorithms: ["RS256"] },
        { issuer: B, jwks_uri: serverB.url, audiences: ["postern-b"], algorithms: ["RS256"] },
      ]),
    ),
  );
});
afterAll(async () => {
  await Promise.all([serverA.close(), serverB.close(), attackerServer.close()]);
});

const refused = (reason: string) => ({ ok: false, reason, status: "invalid_token", transient: false });

describe("external issuer JWTs", () => {
  it("accepts the control token (so the refusals below are about the attack)", async () => {
    expect(await verifier.verify(await keyA.sign(claims()))).toMatchObject({ ok: true, login: "alice" });
  });

  it("refuses alg none without fetching any keys", async () => {
    const before = serverA.requests;
    expect(await verifier.verify(unsecuredJwt(claims()))).toEqual(refused("algorithm not allowed"));
    expect(serverA.requests).toBe(before);
  });

  it("refuses HS256 signed with the issuer's RSA public key (algorithm confusion)", async () => {
    const before = serverA.requests;
    for (const secret of [
      new TextEncoder().encode(await exportSPKI(keyA.publicKey)),
      new TextEncoder().encode(JSON.stringify(keyA.jwk)),
    ]) {
      const token = await new SignJWT(claims())
        .setProtectedHeader({ alg: "HS256", kid: keyA.kid })
        .sign(secret);
      expect(await verifier.verify(token)).toEqual(refused("algorithm not allowed"));
    }
    expect(serverA.requests).toBe(before);
  });

  it("refuses a token minted for another service", async () => {
    expect(await verifier.verify(await keyA.sign(claims({ aud: "https://api.other.example" })))).toEqual(
      refused("wrong audience"),
    );
    // issuer B's audience does not carry over to issuer A
    expect(await verifier.verify(await keyA.sign(claims({ aud: "postern-b" })))).toEqual(
      refused("wrong audience"),
    );
  });

  it("refuses an expired token", async () => {
    expect(await verifier.verify(await keyA.sign(claims({ iat: now() - 7200, exp: now() - 3600 })))).toEqual(
      refused("token expired"),
    );
  });

  it("refuses a token from issuer B that claims to be from issuer A", async () => {
    // B's key, A's iss: verified against A's keys only
    expect((await verifier.verify(await keyB.sign(claims()))).ok).toBe(false);
    expect((await verifier.verify(await keyB.sign(claims(), { kid: keyA.kid }))).ok).toBe(false);
    // and B's genuine token with A's audience is still not for Postern-as-B
    expect(await verifier.verify(await keyB.sign(claims({ iss: B })))).toEqual(refused("wrong audience"));
  });

  it("refuses a token signed by an unknown key that reuses a known kid", async () => {
    expect(await verifier.verify(await attacker.sign(claims()))).toEqual(refused("signature invalid"));
  });

  it("refuses unknown issuers, including Postern's own", async () => {
    expect(await verifier.verify(await attacker.sign(claims({ iss: "https://evil.example" })))).toEqual(
      refused("unknown issuer"),
    );
    expect(await verifier.verify(await attacker.sign(claims({ iss: "postern" })))).toEqual(
      refused("unknown issuer"),
    );
  });

  it("refuses unknown kids without letting them turn into a stream of key set requests", async () => {
    await verifier.verify(await keyA.sign(claims())); // the set is cached
    const before = serverA.requests;
    for (let i = 0; i < 20; i++) {
      expect(await verifier.verify(await attacker.sign(claims(), { kid: `forged-${i}` }))).toEqual(
        refused("unknown signing key"),
      );
    }
    expect(serverA.requests - before).toBeLessThanOrEqual(1);
  });

  it("ignores keys and key URLs named in the token's own header (jwk, jku, x5u)", async () => {
    const embedded = await attacker.sign(claims(), { jwk: await exportJWK(attacker.publicKey) });
    expect((await verifier.verify(embedded)).ok).toBe(false);
    const pointed = await attacker.sign(claims(), { jku: attackerServer.url, x5u: attackerServer.url });
    expect((await verifier.verify(pointed)).ok).toBe(false);
    expect(attackerServer.requests).toBe(0);
  });

  it("refuses a token without exp, which would never expire", async () => {
    expect(await verifier.verify(await keyA.sign(claims({ exp: undefined })))).toEqual(
      refused("missing exp"),
    );
  });
});

describe("Postern session tokens", () => {
  const secret = new TextEncoder().encode("deployment secret, 32 bytes long");

  it("refuses alg none", async () => {
    const key = await deriveSessionKey(secret);
    const token = unsecuredJwt({ iss: "postern", aud: "postern-session", sub: "admin", exp: now() + 60 });
    expect(isSessionToken(token)).toBe(true);
    expect(await verifySessionToken(key, token)).toEqual({ ok: false, reason: "algorithm not allowed" });
  });

  it("refuses an RS256 token with iss postern, however valid its signature", async () => {
    const key = await deriveSessionKey(secret);
    const token = await attacker.sign({
      iss: "postern",
      aud: "postern-session",
      sub: "admin",
      mech: "PLAIN",
      jti: "x",
      iat: now(),
      exp: now() + 60,
    });
    expect(await verifySessionToken(key, token)).toEqual({ ok: false, reason: "algorithm not allowed" });
  });

  it("refuses an HS256 token keyed with anything but the derived session key", async () => {
    const key = await deriveSessionKey(secret);
    // the raw deployment secret, and a public key's bytes, are both wrong keys
    const { publicKey } = await generateKeyPair("ES256", { extractable: true });
    for (const wrong of [secret, new TextEncoder().encode(await exportSPKI(publicKey))]) {
      const token = await new SignJWT({ mech: "PLAIN", jti: "x" })
        .setProtectedHeader({ alg: "HS256", typ: "postern-session+jwt" })
        .setIssuer("postern")
        .setAudience("postern-session")
        .setSubject("admin")
        .setIssuedAt()
        .setExpirationTime("1m")
        .sign(wrong);
      expect(await verifySessionToken(key, token)).toEqual({ ok: false, reason: "signature invalid" });
    }
  });

  it("does not let a session token pass as an external issuer's token", async () => {
    const token = await issueSessionToken(await deriveSessionKey(secret), {
      login: "alice",
      mechanism: "PLAIN",
    });
    expect(await verifier.verify(token)).toEqual(refused("unknown issuer"));
  });
});
