// The client mechanisms the shared test Dovecot does not offer, against a real Postfix: OAUTHBEARER
// and XOAUTH2 through a Dovecot that checks bearer tokens at an OAuth 2.0 introspection endpoint
// (RFC 7662) run by this test, and DIGEST-MD5 through a Dovecot that offers it.
import { once } from "node:events";
import http from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RelayOptions } from "../../src/core/smtp/client/index.ts";
import { openRelaySession } from "../../src/core/smtp/client/index.ts";
import { connectNode } from "../../src/node/net-socket.ts";
import { type RunningPostfix, startPostfix } from "../postfix/postfix-process.ts";
import {
  type RunningRelayDovecot,
  startDigestDovecot,
  startOAuth2Dovecot,
} from "../postfix/relay-dovecot.ts";
import { makeTestCertificates } from "../smarthost/certificates.ts";

const certificates = makeTestCertificates(path.resolve(".wrangler/test-certs"));
const USER = "alice@contoso.test";
const valid = new Set<string>();
const introspected: string[] = [];
let introspection: http.Server;
let dovecot: RunningRelayDovecot;
let digestDovecot: RunningRelayDovecot;
let postfix: RunningPostfix;

beforeAll(async () => {
  introspection = http.createServer(async (request, response) => {
    let body = "";
    for await (const chunk of request) body += chunk;
    const token = new URLSearchParams(body).get("token") ?? "";
    introspected.push(token);
    response.writeHead(200, { "content-type": "application/json" });
    response.end(JSON.stringify(valid.has(token) ? { active: true, username: USER } : { active: false }));
  });
  introspection.listen(0, "127.0.0.1");
  await once(introspection, "listening");
  const url = `http://127.0.0.1:${(introspection.address() as AddressInfo).port}/introspect`;
  dovecot = await startOAuth2Dovecot(url);
  digestDovecot = await startDigestDovecot("alice:{PLAIN}alice-secret\n", "postfix.test");
  postfix = await startPostfix({
    saslPath: `inet:127.0.0.1:${dovecot.port}`,
    certFile: certificates.certFile,
    keyFile: certificates.keyFile,
    listeners: {
      submission: {},
      digest: { options: { smtpd_sasl_path: `inet:127.0.0.1:${digestDovecot.port}` } },
    },
  });
}, 60_000);

afterAll(async () => {
  await postfix?.stop();
  await dovecot?.stop();
  await digestDovecot?.stop();
  introspection?.close();
});

function options(token: string, overrides: Partial<RelayOptions> = {}): RelayOptions {
  return {
    host: "127.0.0.1",
    port: postfix.ports.submission!,
    heloName: "postern.test",
    tlsLevel: "encrypt",
    wrapperMode: false,
    auth: { username: USER, token },
    timeouts: { connect: 5_000, greeting: 10_000, command: 10_000, data: 10_000 },
    ...overrides,
  };
}

async function relay(token: string, overrides: Partial<RelayOptions> = {}) {
  const opened = await openRelaySession(connectNode, options(token, overrides));
  if (!opened.ok) return { ok: false as const, ...opened.outcome };
  const { session } = opened;
  const outcomes = await session.send({
    mailFrom: USER,
    recipients: ["rcpt@example.net"],
    size: 64,
    body: async () => new TextEncoder().encode("Subject: oauth2\r\n\r\nhello\r\n"),
  });
  await session.close();
  return { ok: true as const, mechanism: session.authMechanism, status: outcomes[0]?.status };
}

describe("bearer tokens against Postfix + Dovecot (oauth2 passdb)", () => {
  it("OAUTHBEARER is preferred, and Postfix accepts the message as the token's user", async () => {
    const token = `tok-${crypto.randomUUID()}`;
    valid.add(token);
    expect(await relay(token)).toEqual({ ok: true, mechanism: "OAUTHBEARER", status: "sent" });
    expect(introspected).toContain(token);
    expect(await postfix.logged(`sasl_method=OAUTHBEARER, sasl_username=${USER}`)).toBe(true);
  });

  it("XOAUTH2 when the filter asks for it", async () => {
    const token = `tok-${crypto.randomUUID()}`;
    valid.add(token);
    const sasl = {
      securityOptions: "noplaintext, noanonymous",
      tlsSecurityOptions: "noanonymous",
      tlsVerifiedSecurityOptions: "noanonymous",
      mechanismFilter: "xoauth2",
    };
    expect(await relay(token, { sasl })).toEqual({ ok: true, mechanism: "XOAUTH2", status: "sent" });
    expect(await postfix.logged(`sasl_method=XOAUTH2, sasl_username=${USER}`)).toBe(true);
  });

  it("a token the provider calls inactive: the error exchange ends in a 535, deferred", async () => {
    const result = await relay("revoked-token");
    expect(result).toMatchObject({
      ok: false,
      status: "deferred",
      authRejected: true,
      reason: expect.stringMatching(
        /^SASL authentication failed; server 127\.0\.0\.1\[127\.0\.0\.1\] said: 535 /,
      ),
    });
    expect(result.ok || result.reason.includes("revoked-token")).toBe(false);
  });

  it("never sends a bearer token without TLS", async () => {
    const before = introspected.length;
    expect(await relay("any-token", { tlsLevel: "none" })).toEqual({
      ok: false,
      status: "deferred",
      reason: "SASL authentication failure: No worthy mechs found",
    });
    expect(introspected.length).toBe(before);
  });
});

describe("DIGEST-MD5 against Postfix + Dovecot", () => {
  const password = (secret: string): Partial<RelayOptions> => ({
    port: postfix.ports.digest!,
    auth: { username: "alice", password: secret },
  });

  it("authenticates, checks the server's rspauth, and Postfix accepts the message", async () => {
    expect(await relay("", password("alice-secret"))).toEqual({
      ok: true,
      mechanism: "DIGEST-MD5",
      status: "sent",
    });
    expect(await postfix.logged(/sasl_method=DIGEST-MD5, sasl_username=alice/)).toBe(true);
  });

  it("a wrong password gets Postfix's 535", async () => {
    expect(await relay("", password("wrong"))).toMatchObject({
      ok: false,
      status: "deferred",
      reason: expect.stringMatching(/said: 535 5\.7\.8 /),
    });
  });

  it("noactive refuses it: No worthy mechs found", async () => {
    const sasl = {
      securityOptions: "noplaintext, noanonymous",
      tlsSecurityOptions: "noactive",
      tlsVerifiedSecurityOptions: "noactive",
      mechanismFilter: "",
    };
    expect(await relay("", { ...password("alice-secret"), sasl })).toMatchObject({
      ok: false,
      reason: "SASL authentication failure: No worthy mechs found",
    });
  });
});
