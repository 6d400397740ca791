import { describe, expect, it, vi } from "vitest";
import { base64ToBytes, bytesToBase64 } from "../encoding/base64.ts";
import type { SaslServerContext } from "./mechanism.ts";
import { runExchange, testContext } from "./memory-credentials.test-helper.ts";
import { OAUTH_RESPONSE_LIMIT } from "./oauth-wire.ts";
import { parseXOAuth2Response, XOAUTH2, xoauth2, xoauth2Error } from "./xoauth2.ts";

const bytes = (text: string) => new TextEncoder().encode(text);
const text = (data: Uint8Array) => new TextDecoder().decode(data);

// Google's XOAUTH2 documentation: the client response and the error challenge, base64 as sent.
const GOOGLE_RESPONSE =
  "dXNlcj1zb21ldXNlckBleGFtcGxlLmNvbQFhdXRoPUJlYXJlciB5YTI5LnZGOWRmdDRxbVRjMk52YjNSbGNrQmhkSFJoZG1semRHRXVZMjl0Q2cBAQ==";
const GOOGLE_TOKEN = "ya29.vF9dft4qmTc2Nvb3RlckBhdHRhdmlzdGEuY29tCg";
const GOOGLE_ERROR =
  "eyJzdGF0dXMiOiI0MDEiLCJzY2hlbWVzIjoiYmVhcmVyIiwic2NvcGUiOiJodHRwczovL21haWwuZ29vZ2xlLmNvbS8ifQ==";

const response = (user = "alice", token = "valid-token-for-alice") =>
  bytes(`user=${user}\x01auth=Bearer ${token}\x01\x01`);

describe("XOAUTH2 wire format", () => {
  it("parses Google's example response", () => {
    expect(parseXOAuth2Response(base64ToBytes(GOOGLE_RESPONSE))).toEqual({
      ok: true,
      value: { user: "someuser@example.com", token: GOOGLE_TOKEN },
    });
  });

  it("builds Google's example response byte for byte", async () => {
    const client = XOAUTH2.client({ authcid: "someuser@example.com", token: GOOGLE_TOKEN });
    expect(bytesToBase64((await client.start())!)).toBe(GOOGLE_RESPONSE);
  });

  it("builds Google's error challenge byte for byte", () => {
    expect(bytesToBase64(xoauth2Error("invalid_token", { scope: "https://mail.google.com/" }))).toBe(
      GOOGLE_ERROR,
    );
    expect(text(xoauth2Error("invalid_request"))).toBe('{"status":"400","schemes":"bearer"}');
  });

  it("is a plaintext mechanism named XOAUTH2", () => {
    expect(XOAUTH2.name).toBe("XOAUTH2");
    expect(XOAUTH2.properties.plaintext).toBe(true);
    expect(Object.entries(XOAUTH2.properties).filter(([, on]) => on)).toEqual([["plaintext", true]]);
  });
});

describe("XOAUTH2 server", () => {
  const accounts = { alice: { password: "x" }, boss: { password: "x", mayActAs: ["alice"] } };

  it("authenticates a good token", async () => {
    const client = XOAUTH2.client({ authcid: "alice", token: "valid-token-for-alice" });
    const result = await runExchange(XOAUTH2.server, client, testContext(accounts));
    expect(result.status).toEqual({ kind: "done", identity: { authcid: "alice", authzid: "alice" } });
  });

  it("passes the user to verifyBearer", async () => {
    const verifyBearer = vi.fn<SaslServerContext["verifyBearer"]>(async () => ({ ok: true, login: "alice" }));
    await XOAUTH2.server.start(testContext(accounts, { verifyBearer }), response());
    expect(verifyBearer).toHaveBeenCalledWith("valid-token-for-alice", {
      user: "alice",
      host: null,
      port: null,
    });
  });

  it("fails a bad token with Google's error document; the client answers with an empty response", async () => {
    const client = xoauth2({ scope: "https://mail.google.com/" }).client({ authcid: "alice", token: "nope" });
    const result = await runExchange(
      xoauth2({ scope: "https://mail.google.com/" }).server,
      client,
      testContext(accounts),
    );
    expect(result.status).toMatchObject({ kind: "fail", reason: "token rejected", login: "alice" });
    expect(bytesToBase64(result.challenges[0]!)).toBe(GOOGLE_ERROR);
    expect(await client.step(result.challenges[0]!)).toEqual({ kind: "respond", response: new Uint8Array() });
    expect(await client.finish(null)).toEqual({ kind: "fail", reason: "server refused the token: 401" });
  });

  it("refuses a user other than the token's unless it may act as them", async () => {
    const refused = await XOAUTH2.server.start(testContext(accounts), response("boss"));
    expect(refused.status).toMatchObject({ kind: "fail", login: "alice" });

    const ctx = testContext(accounts, { verifyBearer: async () => ({ ok: true, login: "boss" }) });
    const allowed = await XOAUTH2.server.start(ctx, response("alice"));
    expect(allowed.status).toEqual({ kind: "done", identity: { authcid: "boss", authzid: "alice" } });
  });

  it("asks for the response with an empty challenge, keeping the state JSON-safe", async () => {
    const ctx = testContext(accounts);
    const first = await XOAUTH2.server.start(ctx, null);
    expect(first.status).toEqual({ kind: "more", challenge: new Uint8Array() });
    const second = await XOAUTH2.server.step(ctx, JSON.parse(JSON.stringify(first.state)), response());
    expect(second.status.kind).toBe("done");
  });

  it("turns a verifier that throws into a temporary failure", async () => {
    const ctx = testContext(accounts, {
      verifyBearer: () => Promise.reject(new Error("down")),
    });
    expect((await XOAUTH2.server.start(ctx, response())).status.kind).toBe("temp");
  });

  it.each([
    { name: "missing user", input: bytes("auth=Bearer abc\x01\x01") },
    { name: "empty user", input: bytes("user=\x01auth=Bearer abc\x01\x01") },
    { name: "missing auth", input: bytes("user=alice\x01\x01") },
    { name: "missing terminator", input: bytes("user=alice\x01auth=Bearer abc\x01") },
    { name: "non-Bearer scheme", input: bytes("user=alice\x01auth=Basic abc\x01\x01") },
    { name: "repeated user", input: bytes("user=alice\x01user=bob\x01auth=Bearer abc\x01\x01") },
    { name: "empty", input: new Uint8Array() },
    { name: "oversized", input: response("alice", "a".repeat(OAUTH_RESPONSE_LIMIT)) },
  ])("answers malformed for $name", async ({ input }) => {
    const step = await XOAUTH2.server.start(testContext(accounts), input);
    expect(step.status.kind).toBe("malformed");
  });
});
