import { describe, expect, it, vi } from "vitest";
import { base64ToBytes, bytesToBase64 } from "../encoding/base64.ts";
import type { SaslServerContext } from "./mechanism.ts";
import { runExchange, testContext } from "./memory-credentials.test-helper.ts";
import { OAUTH_RESPONSE_LIMIT } from "./oauth-wire.ts";
import { OAUTHBEARER, oauthBearer, oauthBearerError, parseOAuthBearerInitial } from "./oauthbearer.ts";

const bytes = (text: string) => new TextEncoder().encode(text);
const text = (data: Uint8Array) => new TextDecoder().decode(data);

// RFC 7628 §4.1 (IMAP, port 143) and §4.3 (SMTP, port 587): the client's initial responses.
const RFC_IMAP_INITIAL =
  "bixhPXVzZXJAZXhhbXBsZS5jb20sAWhvc3Q9c2VydmVyLmV4YW1wbGUuY29tAXBvcnQ9MTQzAWF1dGg9QmVhcmVyIHZGOWRmdDRxbVRjMk52YjNSbGNrQmhiSFJoZG1semRHRXVZMjl0Q2c9PQEB";
const RFC_SMTP_INITIAL =
  "bixhPXVzZXJAZXhhbXBsZS5jb20sAWhvc3Q9c2VydmVyLmV4YW1wbGUuY29tAXBvcnQ9NTg3AWF1dGg9QmVhcmVyIHZGOWRmdDRxbVRjMk52YjNSbGNrQmhiSFJoZG1semRHRXVZMjl0Q2c9PQEB";
const RFC_TOKEN = "vF9dft4qmTc2Nvb3RlckBhbHRhdmlzdGEuY29tCg==";
// RFC 7628 §4.3: the server's error challenge (334 line).
const RFC_ERROR_CHALLENGE =
  "eyJzdGF0dXMiOiJpbnZhbGlkX3Rva2VuIiwic2NvcGUiOiJleGFtcGxlX3Njb3BlIiwib3BlbmlkLWNvbmZpZ3VyYXRpb24iOiJodHRwczovL2V4YW1wbGUuY29tLy53ZWxsLWtub3duL29wZW5pZC1jb25maWd1cmF0aW9uIn0=";

const initial = (
  token = "valid-token-for-alice",
  gs2 = "n,a=alice,",
  pairs = "host=mx.example\x01port=587\x01",
) => bytes(`${gs2}\x01${pairs}auth=Bearer ${token}\x01\x01`);

describe("OAUTHBEARER wire format (RFC 7628)", () => {
  it.each([
    { name: "§4.1 IMAP", base64: RFC_IMAP_INITIAL, port: 143 },
    { name: "§4.3 SMTP", base64: RFC_SMTP_INITIAL, port: 587 },
  ])("parses the $name example initial response", ({ base64, port }) => {
    expect(parseOAuthBearerInitial(base64ToBytes(base64))).toEqual({
      ok: true,
      value: { authzid: "user@example.com", host: "server.example.com", port, token: RFC_TOKEN },
    });
  });

  it("builds the §4.3 SMTP example initial response byte for byte", async () => {
    const client = OAUTHBEARER.client({
      authcid: "user@example.com",
      token: RFC_TOKEN,
      host: "server.example.com",
      port: 587,
    });
    expect(bytesToBase64((await client.start())!)).toBe(RFC_SMTP_INITIAL);
  });

  it("builds the §4.3 error challenge byte for byte when scope and discovery URL are configured", () => {
    const challenge = oauthBearerError("invalid_token", {
      scope: "example_scope",
      openidConfiguration: "https://example.com/.well-known/openid-configuration",
    });
    expect(bytesToBase64(challenge)).toBe(RFC_ERROR_CHALLENGE);
  });

  it("escapes , and = in a= and omits host/port when not given", async () => {
    const client = OAUTHBEARER.client({ authcid: "a,b=c", token: "t0k" });
    expect(text((await client.start())!)).toBe("n,a=a=2Cb=3Dc,\x01auth=Bearer t0k\x01\x01");
    const parsed = parseOAuthBearerInitial((await client.start())!);
    expect(parsed).toMatchObject({ ok: true, value: { authzid: "a,b=c", host: null, port: null } });
  });

  it("takes the scheme case-insensitively and keeps unknown kvpairs out of the way", () => {
    const parsed = parseOAuthBearerInitial(bytes("y,,\x01mthd=POST\x01auth=bEaReR   abc.def~+/==\x01\x01"));
    expect(parsed).toEqual({
      ok: true,
      value: { authzid: null, host: null, port: null, token: "abc.def~+/==" },
    });
  });

  it("refuses to build a response that would break the framing", async () => {
    await expect(OAUTHBEARER.client({ authcid: "alice", token: "bad token" }).start()).rejects.toThrow(
      TypeError,
    );
    await expect(OAUTHBEARER.client({ authcid: "alice" }).start()).rejects.toThrow(TypeError);
    await expect(OAUTHBEARER.client({ authcid: "al\x01ice", token: "t" }).start()).rejects.toThrow(TypeError);
  });

  it("declares a bearer token a plaintext credential, nothing else", () => {
    expect(OAUTHBEARER.name).toBe("OAUTHBEARER");
    expect(OAUTHBEARER.properties).toEqual({
      plaintext: true,
      active: false,
      dictionary: false,
      anonymous: false,
      mutualAuth: false,
      forwardSecrecy: false,
      channelBinding: false,
      external: false,
    });
  });
});

describe("OAUTHBEARER server", () => {
  const accounts = { alice: { password: "x" }, boss: { password: "x", mayActAs: ["alice"] } };

  it("authenticates a good token through verifyBearer", async () => {
    const client = OAUTHBEARER.client({
      authcid: "alice",
      token: "valid-token-for-alice",
      host: "h",
      port: 25,
    });
    const result = await runExchange(OAUTHBEARER.server, client, testContext(accounts));
    expect(result.status).toEqual({ kind: "done", identity: { authcid: "alice", authzid: "alice" } });
    expect(result.steps).toBe(1);
  });

  it("takes the identity from the token when there is no a=", async () => {
    const step = await OAUTHBEARER.server.start(testContext(accounts), initial(undefined, "n,,"));
    expect(step.status).toEqual({ kind: "done", identity: { authcid: "alice", authzid: "alice" } });
  });

  it("passes the claimed user, host and port to verifyBearer", async () => {
    const verifyBearer = vi.fn<SaslServerContext["verifyBearer"]>(async () => ({ ok: true, login: "alice" }));
    await OAUTHBEARER.server.start(testContext(accounts, { verifyBearer }), initial());
    expect(verifyBearer).toHaveBeenCalledWith("valid-token-for-alice", {
      user: "alice",
      host: "mx.example",
      port: 587,
    });
  });

  it("asks for the initial response with an empty challenge when AUTH came without one", async () => {
    const ctx = testContext(accounts);
    const first = await OAUTHBEARER.server.start(ctx, null);
    expect(first.status).toEqual({ kind: "more", challenge: new Uint8Array() });
    const state = JSON.parse(JSON.stringify(first.state));
    const second = await OAUTHBEARER.server.step(ctx, state, initial());
    expect(second.status.kind).toBe("done");
    // and the client answers that empty challenge with its initial response, once
    const client = OAUTHBEARER.client({ authcid: "alice", token: "valid-token-for-alice" });
    expect(await client.step(new Uint8Array())).toEqual({ kind: "respond", response: await client.start() });
    expect((await client.step(new Uint8Array())).kind).toBe("fail");
  });

  it("refuses a step in a state it never produced", async () => {
    const step = await OAUTHBEARER.server.step(testContext(accounts), { phase: "done" }, initial());
    expect(step.status.kind).toBe("malformed");
  });

  it("fails a bad token with the JSON error challenge, which the client answers with \\x01", async () => {
    const client = OAUTHBEARER.client({ authcid: "alice", token: "stolen-token" });
    const result = await runExchange(OAUTHBEARER.server, client, testContext(accounts));
    expect(result.status).toMatchObject({ kind: "fail", reason: "token rejected", login: "alice" });
    expect(result.challenges).toHaveLength(1);
    expect(JSON.parse(text(result.challenges[0]!))).toEqual({ status: "invalid_token" });
    // RFC 7628 §3.2.3: the dummy response; then the client knows it failed and why
    expect(await client.step(result.challenges[0]!)).toEqual({ kind: "respond", response: bytes("\x01") });
    expect(await client.finish(null)).toEqual({
      kind: "fail",
      reason: "server refused the token: invalid_token",
    });
  });

  it("puts the configured scope and discovery URL in the error document", async () => {
    const mech = oauthBearer({
      scope: "smtp",
      openidConfiguration: "https://idp/.well-known/openid-configuration",
    });
    const step = await mech.server.start(testContext(accounts), initial("nope"));
    expect(step.status.kind).toBe("fail");
    const challenge = step.status.kind === "fail" ? step.status.challenge : undefined;
    expect(JSON.parse(text(challenge!))).toEqual({
      status: "invalid_token",
      scope: "smtp",
      "openid-configuration": "https://idp/.well-known/openid-configuration",
    });
  });

  it("carries verifyBearer's invalid_request status into the error document", async () => {
    const ctx = testContext(accounts, {
      verifyBearer: async () => ({ ok: false, reason: "token too large", status: "invalid_request" }),
    });
    const step = await OAUTHBEARER.server.start(ctx, initial());
    expect(step.status).toMatchObject({ kind: "fail", reason: "token too large" });
    expect(step.status.kind === "fail" && text(step.status.challenge!)).toBe('{"status":"invalid_request"}');
  });

  it("turns a verifier that throws into a temporary failure", async () => {
    const ctx = testContext(accounts, {
      verifyBearer: async () => {
        throw new Error("JWKS down");
      },
    });
    expect((await OAUTHBEARER.server.start(ctx, initial())).status).toMatchObject({
      kind: "temp",
      login: "alice",
    });
  });

  it("refuses a= naming someone else unless the token's login may act as them", async () => {
    const refused = await OAUTHBEARER.server.start(testContext(accounts), initial(undefined, "n,a=boss,"));
    expect(refused.status).toMatchObject({
      kind: "fail",
      login: "alice",
      reason: "not authorized to act as boss",
    });
    expect(refused.status.kind === "fail" && refused.status.challenge).toBeTruthy();

    const ctx = testContext(accounts, { verifyBearer: async () => ({ ok: true, login: "boss" }) });
    const allowed = await OAUTHBEARER.server.start(ctx, initial(undefined, "n,a=alice,"));
    expect(allowed.status).toEqual({ kind: "done", identity: { authcid: "boss", authzid: "alice" } });
  });

  it("fails when a= is not a usable login", async () => {
    const step = await OAUTHBEARER.server.start(testContext(accounts), initial(undefined, "n,a=al\x02ice,"));
    expect(step.status.kind).toBe("fail");
  });

  const oversized = bytes(`n,,\x01auth=Bearer ${"a".repeat(OAUTH_RESPONSE_LIMIT)}\x01\x01`);
  it.each([
    { name: "empty response", input: new Uint8Array() },
    { name: "lone \\x01 (only valid after an error)", input: bytes("\x01") },
    { name: "missing \\x01\\x01 terminator", input: bytes("n,,\x01auth=Bearer abc\x01") },
    { name: "no terminator at all", input: bytes("n,,\x01auth=Bearer abc") },
    { name: "missing auth", input: bytes("n,a=alice,\x01host=h\x01port=25\x01\x01") },
    { name: "no gs2 header", input: bytes("\x01auth=Bearer abc\x01\x01") },
    { name: "one comma only", input: bytes("n\x01auth=Bearer abc\x01\x01") },
    { name: "bad cbind flag", input: bytes("x,,\x01auth=Bearer abc\x01\x01") },
    { name: "channel binding requested", input: bytes("p=tls-exporter,,\x01auth=Bearer abc\x01\x01") },
    { name: "authzid without a=", input: bytes("n,alice,\x01auth=Bearer abc\x01\x01") },
    { name: "empty a=", input: bytes("n,a=,\x01auth=Bearer abc\x01\x01") },
    { name: "bad saslname escape", input: bytes("n,a=al=2Xice,\x01auth=Bearer abc\x01\x01") },
    { name: "no \\x01 after the gs2 header", input: bytes("n,,auth=Bearer abc\x01\x01") },
    { name: "non-Bearer scheme", input: bytes("n,,\x01auth=Basic YWxpY2U6cHc=\x01\x01") },
    { name: "Bearer without a token", input: bytes("n,,\x01auth=Bearer \x01\x01") },
    { name: "Bearer without the space", input: bytes("n,,\x01auth=Bearerabc\x01\x01") },
    { name: "token with a space", input: bytes("n,,\x01auth=Bearer ab cd\x01\x01") },
    { name: "repeated auth", input: bytes("n,,\x01auth=Bearer abc\x01auth=Bearer def\x01\x01") },
    { name: "key with a digit", input: bytes("n,,\x01h0st=x\x01auth=Bearer abc\x01\x01") },
    { name: "pair without =", input: bytes("n,,\x01host\x01auth=Bearer abc\x01\x01") },
    { name: "empty pair", input: bytes("n,,\x01auth=Bearer abc\x01\x01\x01") },
    { name: "NUL in a value", input: bytes("n,,\x01host=a\0b\x01auth=Bearer abc\x01\x01") },
    { name: "port out of range", input: bytes("n,,\x01port=65536\x01auth=Bearer abc\x01\x01") },
    { name: "port not a number", input: bytes("n,,\x01port=smtp\x01auth=Bearer abc\x01\x01") },
    { name: "not UTF-8", input: Uint8Array.from([0x6e, 0x2c, 0x61, 0x3d, 0xff, 0x2c, 0x01, 0x01]) },
    { name: "oversized", input: oversized },
  ])("answers malformed for $name", async ({ input }) => {
    const verifyBearer = vi.fn<SaslServerContext["verifyBearer"]>();
    const step = await OAUTHBEARER.server.start(testContext(accounts, { verifyBearer }), input);
    expect(step.status.kind).toBe("malformed");
    expect(verifyBearer).not.toHaveBeenCalled();
  });
});
