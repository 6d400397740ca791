// The relay client's SASL and TLS against a real Postfix (smtpd_sasl_type = dovecot, a real
// Dovecot offering PLAIN LOGIN CRAM-MD5 SCRAM-SHA-1 SCRAM-SHA-256), over node:net / node:tls: each
// client mechanism negotiated for real, each policy option picking or refusing what Postfix's own
// client would, and the TLS levels checking (or not) the certificate.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import type { ClientSaslPolicy, RelayOptions } from "../../src/core/smtp/client/index.ts";
import { openRelaySession } from "../../src/core/smtp/client/index.ts";
import { connectNode } from "../../src/node/net-socket.ts";
import { type RunningNodeServer, startNodeServer } from "../../src/node/node-server.ts";
import { type RunningDovecot, startDovecot } from "../dovecot/dovecot-process.ts";
import { type RunningPostfix, selfSignedCertificate, startPostfix } from "../postfix/postfix-process.ts";
import { makeTestCertificates } from "../smarthost/certificates.ts";

const certificates = makeTestCertificates(path.resolve(".wrangler/test-certs"));
const scratch = mkdtempSync(path.join(tmpdir(), "postern-relay-auth-"));
const selfSigned = selfSignedCertificate(scratch);
let dovecot: RunningDovecot;
let postfix: RunningPostfix;

beforeAll(async () => {
  dovecot = await startDovecot();
  postfix = await startPostfix({
    saslPath: `inet:127.0.0.1:${dovecot.port}`,
    certFile: certificates.certFile,
    keyFile: certificates.keyFile,
    listeners: {
      // STARTTLS offered, AUTH before and after it.
      submission: {},
      // No STARTTLS at all.
      plain: { options: { smtpd_tls_security_level: "none" } },
      // A certificate no CA vouches for.
      selfSigned: {
        options: { smtpd_tls_cert_file: selfSigned.certFile, smtpd_tls_key_file: selfSigned.keyFile },
      },
      // Implicit TLS (465).
      wrapper: { options: { smtpd_tls_wrappermode: "yes" } },
      // Only SCRAM-SHA-1 is announced (Postfix's own server-side filter).
      scram1Only: { options: { smtpd_sasl_mechanism_filter: "scram-sha-1" } },
      // Only PLAIN and LOGIN.
      plaintextOnly: { options: { smtpd_sasl_mechanism_filter: "plain,login" } },
    },
  });
}, 60_000);

afterAll(async () => {
  await postfix?.stop();
  await dovecot?.remove();
  rmSync(scratch, { recursive: true, force: true });
});

const ALICE = { username: "alice", password: "alice-secret" };
const DEFAULTS: ClientSaslPolicy = {
  securityOptions: "noplaintext, noanonymous",
  tlsSecurityOptions: "noanonymous",
  tlsVerifiedSecurityOptions: "noanonymous",
  mechanismFilter: "",
};

function options(port: number, overrides: Partial<RelayOptions> = {}): RelayOptions {
  return {
    host: "127.0.0.1",
    port,
    heloName: "postern.test",
    tlsLevel: "encrypt",
    wrapperMode: false,
    auth: ALICE,
    sasl: DEFAULTS,
    timeouts: { connect: 5_000, greeting: 10_000, command: 10_000, data: 10_000 },
    ...overrides,
  };
}

/** Opens a session, sends one message, and says how it went. */
async function relay(overrides: Partial<RelayOptions> & { port?: number } = {}) {
  const { port = postfix.ports.submission!, ...rest } = overrides;
  const opened = await openRelaySession(connectNode, options(port, rest));
  if (!opened.ok) return { ok: false as const, ...opened.outcome };
  const { session } = opened;
  const outcomes = await session.send({
    mailFrom: "alice@example.com",
    recipients: ["rcpt@example.net"],
    size: 64,
    body: async () => new TextEncoder().encode("Subject: relay-auth test\r\n\r\nhello\r\n"),
  });
  await session.close();
  return { ok: true as const, mechanism: session.authMechanism, secure: session.secure, outcomes };
}

/** Postfix logs `sasl_method=X, sasl_username=alice` for each accepted message. */
function postfixSaw(mechanism: string): Promise<boolean> {
  return postfix.logged(`sasl_method=${mechanism}, sasl_username=alice`);
}

// Postfix answers slowly right after a failed login (its smtpd_error_sleep_time), so no 5 s limit.
vi.setConfig({ testTimeout: 60_000 });

describe("each client mechanism against Postfix + Dovecot SASL", () => {
  const cases = [
    { mechanism: "SCRAM-SHA-256", filter: "" },
    { mechanism: "SCRAM-SHA-1", filter: "scram-sha-1" },
    { mechanism: "CRAM-MD5", filter: "cram-md5" },
    { mechanism: "PLAIN", filter: "plain" },
    { mechanism: "LOGIN", filter: "login" },
  ];
  for (const { mechanism, filter } of cases) {
    it(`${mechanism}: authenticates, and Postfix accepts the message as alice`, async () => {
      const result = await relay({ sasl: { ...DEFAULTS, mechanismFilter: filter } });
      expect(result).toMatchObject({ ok: true, mechanism, secure: true });
      expect(result.ok && result.outcomes[0]?.status).toBe("sent");
      expect(await postfixSaw(mechanism)).toBe(true);
    });
  }
});

describe("smtp_send_dummy_mail_auth against Postfix", () => {
  it("AUTH=<> on MAIL FROM is accepted and the message sent", async () => {
    const result = await relay({ dummyMailAuth: true });
    expect(result).toMatchObject({ ok: true, mechanism: "SCRAM-SHA-256" });
    expect(result.ok && result.outcomes[0]?.status).toBe("sent");
  });
});

describe("policy picks or refuses what Postfix's client would", () => {
  it("without TLS, noplaintext: the strongest non-plaintext mechanism (SCRAM-SHA-256)", async () => {
    const result = await relay({ tlsLevel: "none" });
    expect(result).toMatchObject({ ok: true, mechanism: "SCRAM-SHA-256", secure: false });
  });

  it("without TLS, noplaintext, only PLAIN/LOGIN offered: No worthy mechs found, nothing sent", async () => {
    const result = await relay({ tlsLevel: "none", port: postfix.ports.plaintextOnly });
    expect(result).toEqual({
      ok: false,
      status: "deferred",
      reason: "SASL authentication failure: No worthy mechs found",
    });
  });

  it("with TLS, noanonymous: PLAIN when only PLAIN/LOGIN are offered", async () => {
    const result = await relay({ port: postfix.ports.plaintextOnly });
    expect(result).toMatchObject({ ok: true, mechanism: "PLAIN", secure: true });
  });

  it("smtp_sasl_tls_security_options = noplaintext refuses PLAIN/LOGIN inside TLS too", async () => {
    const result = await relay({
      port: postfix.ports.plaintextOnly,
      sasl: { ...DEFAULTS, tlsSecurityOptions: "noplaintext" },
    });
    expect(result).toMatchObject({ ok: false, reason: "SASL authentication failure: No worthy mechs found" });
  });

  it("smtp_sasl_tls_security_options = nodictionary leaves PLAIN of all five", async () => {
    const result = await relay({ sasl: { ...DEFAULTS, tlsSecurityOptions: "nodictionary" } });
    expect(result).toMatchObject({ ok: true, mechanism: "PLAIN" });
  });

  it("noactive drops CRAM-MD5: the filter cram-md5,login then gives LOGIN", async () => {
    const result = await relay({
      sasl: { ...DEFAULTS, tlsSecurityOptions: "noactive", mechanismFilter: "cram-md5, login" },
    });
    expect(result).toMatchObject({ ok: true, mechanism: "LOGIN" });
  });

  it("mutual_auth keeps SCRAM only", async () => {
    const result = await relay({
      port: postfix.ports.plaintextOnly,
      sasl: { ...DEFAULTS, tlsSecurityOptions: "mutual_auth" },
    });
    expect(result).toMatchObject({ ok: false, reason: "SASL authentication failure: No worthy mechs found" });
  });

  it("smtp_sasl_mechanism_filter = !scram-sha-256, !scram-sha-1, static:all gives CRAM-MD5", async () => {
    const result = await relay({
      sasl: { ...DEFAULTS, mechanismFilter: "!scram-sha-256, !scram-sha-1, static:all" },
    });
    expect(result).toMatchObject({ ok: true, mechanism: "CRAM-MD5" });
  });

  it("a filter that matches nothing the server offers: No worthy mechs found", async () => {
    const result = await relay({
      port: postfix.ports.scram1Only,
      sasl: { ...DEFAULTS, mechanismFilter: "plain" },
    });
    expect(result).toMatchObject({ ok: false, reason: "SASL authentication failure: No worthy mechs found" });
  });

  it("a server offering only SCRAM-SHA-1 gets SCRAM-SHA-1", async () => {
    const result = await relay({ port: postfix.ports.scram1Only });
    expect(result).toMatchObject({ ok: true, mechanism: "SCRAM-SHA-1" });
  });

  it("verify: smtp_sasl_tls_verified_security_options decides, not the TLS options", async () => {
    const refused = await relay({
      tlsLevel: "verify",
      port: postfix.ports.plaintextOnly,
      sasl: { ...DEFAULTS, tlsSecurityOptions: "noanonymous", tlsVerifiedSecurityOptions: "noplaintext" },
    });
    expect(refused).toMatchObject({
      ok: false,
      reason: "SASL authentication failure: No worthy mechs found",
    });
    const allowed = await relay({
      tlsLevel: "verify",
      port: postfix.ports.plaintextOnly,
      sasl: { ...DEFAULTS, tlsSecurityOptions: "noplaintext", tlsVerifiedSecurityOptions: "noanonymous" },
    });
    expect(allowed).toMatchObject({ ok: true, mechanism: "PLAIN" });
  });
});

describe("smtp_tls_security_level against Postfix", () => {
  it("encrypt: a server without STARTTLS defers, nothing is sent in the clear", async () => {
    const result = await relay({ port: postfix.ports.plain });
    expect(result).toEqual({
      ok: false,
      status: "deferred",
      reason: "TLS is required, but was not offered by host 127.0.0.1[127.0.0.1]",
    });
  });

  it("may: a server without STARTTLS gets plaintext, and noplaintext keeps PLAIN out of it", async () => {
    const result = await relay({ port: postfix.ports.plain, tlsLevel: "may" });
    expect(result).toMatchObject({ ok: true, secure: false, mechanism: "SCRAM-SHA-256" });
  });

  it("may and encrypt take a certificate no CA vouches for (Postfix: no verification)", async () => {
    for (const tlsLevel of ["may", "encrypt"] as const) {
      const result = await relay({ port: postfix.ports.selfSigned, tlsLevel });
      expect(result).toMatchObject({ ok: true, secure: true });
    }
  });

  it("verify and secure refuse it", async () => {
    for (const tlsLevel of ["verify", "secure"] as const) {
      const result = await relay({ port: postfix.ports.selfSigned, tlsLevel });
      expect(result).toEqual({
        ok: false,
        status: "deferred",
        reason: "Cannot start TLS: handshake failure",
      });
    }
  });

  it("verify with smtp_tls_CAfile naming that certificate trusts it", async () => {
    const result = await relay({
      port: postfix.ports.selfSigned,
      tlsLevel: "verify",
      caFile: selfSigned.certFile,
    });
    expect(result).toMatchObject({ ok: true, secure: true });
  });

  it("verify with smtp_tls_CAfile of another CA refuses a certificate the system would trust", async () => {
    // The test CA is trusted process-wide (NODE_EXTRA_CA_CERTS); smtp_tls_CAfile replaces that trust.
    const trusted = await relay({ tlsLevel: "verify" });
    expect(trusted).toMatchObject({ ok: true, secure: true });
    const result = await relay({ tlsLevel: "verify", caFile: selfSigned.certFile });
    expect(result).toMatchObject({ ok: false, reason: "Cannot start TLS: handshake failure" });
  });

  it("verify checks the host name: a trusted certificate for another name is refused", async () => {
    // The self-signed certificate names self-signed.test and 127.0.0.1, not localhost.
    const trusted = { port: postfix.ports.selfSigned, caFile: selfSigned.certFile, host: "localhost" };
    expect(await relay({ ...trusted, tlsLevel: "encrypt" })).toMatchObject({ ok: true, secure: true });
    expect(await relay({ ...trusted, tlsLevel: "verify" })).toMatchObject({
      ok: false,
      reason: "Cannot start TLS: handshake failure",
    });
  });

  it("wrapper mode: implicit TLS, verified", async () => {
    const result = await relay({ port: postfix.ports.wrapper, wrapperMode: true, tlsLevel: "verify" });
    expect(result).toMatchObject({ ok: true, secure: true, mechanism: "SCRAM-SHA-256" });
  });
});

// Last: Dovecot slows down further logins from an address after failed ones (auth penalty).
describe("a refused credential", () => {
  it("a wrong password: Postfix's 535 defers (smtp_sasl_auth_soft_bounce = yes)", async () => {
    const result = await relay({ auth: { username: "alice", password: "wrong" } });
    expect(result).toMatchObject({
      ok: false,
      status: "deferred",
      authRejected: true,
      reason: expect.stringMatching(
        /^SASL authentication failed; server 127\.0\.0\.1\[127\.0\.0\.1\] said: 535 5\.7\.8/,
      ),
    });
  });
});

// The delivery path of the Node runtime (HTTP submission -> queue -> relay) against the same
// Postfix: smtp_sasl_auth_cache_name and smtp_sasl_auth_soft_bounce as they shape retries.
describe("smtp_sasl_auth_cache_name and soft bounce through the Node runtime", () => {
  const ADMIN = "relay-auth-admin-token-0123456789";
  let gateway: RunningNodeServer;
  let submitAs = "";
  const hopKey = () => encodeURIComponent(`[127.0.0.1]:${postfix.ports.submission}`);

  beforeAll(async () => {
    gateway = await startNodeServer({
      dataDir: path.join(scratch, "gateway"),
      port: 0,
      adminToken: ADMIN,
      secretKey: `k1:${Buffer.alloc(32, 5).toString("base64")}`,
      settingsOverrides: {
        relayhost: `[127.0.0.1]:${postfix.ports.submission}`,
        smtp_sasl_auth_enable: "yes",
        smtp_tls_security_level: "encrypt",
        smtp_sasl_auth_cache_name: "sqlite:sasl_auth_cache",
        minimal_backoff_time: "1s",
        maximal_backoff_time: "1s",
      },
    });
    const password = `pw-${crypto.randomUUID()}`;
    await admin("POST", "/accounts", { login: "app", password });
    await admin("PUT", "/maps/sender_login/app@example.com", { value: "app" });
    submitAs = `Basic ${Buffer.from(`app:${password}`).toString("base64")}`;
  });

  afterAll(() => gateway?.stop());

  async function admin(method: string, route: string, body?: unknown): Promise<unknown> {
    const headers: Record<string, string> = { authorization: `Bearer ${ADMIN}` };
    if (body !== undefined) headers["content-type"] = "application/json";
    const res = await fetch(`${gateway.url}/v1/admin${route}`, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`${method} ${route}: ${res.status} ${text}`);
    return text ? JSON.parse(text) : null;
  }

  async function submit(rcpt: string): Promise<string> {
    const query = new URLSearchParams({ from: "app@example.com", to: rcpt });
    const res = await fetch(`${gateway.url}/v1/messages?${query}`, {
      method: "POST",
      headers: { authorization: submitAs, "content-type": "message/rfc822" },
      body: `From: app@example.com\r\nSubject: ${rcpt}\r\n\r\nhello\r\n`,
    });
    if (res.status !== 202) throw new Error(`submission: ${res.status} ${await res.text()}`);
    return ((await res.json()) as { id: string }).id;
  }

  interface View {
    status: string;
    recipients: { status: string; reply: string | null }[];
    attempts_log: { status: string; reply: string }[];
  }

  async function until(id: string, want: (view: View) => boolean): Promise<View> {
    const deadline = Date.now() + 40_000;
    for (;;) {
      const view = (await admin("GET", `/queue/${id}`)) as View;
      if (want(view)) return view;
      if (Date.now() > deadline) throw new Error(`${id} never settled: ${JSON.stringify(view)}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  const failedLogins = () => (postfix.log().match(/SASL \S+ authentication failed/g) ?? []).length;

  it("a refused password is remembered, not retried against Postfix, and forgotten when changed", async () => {
    await admin("PUT", `/maps/sasl_passwd/${hopKey()}`, { value: "alice:not-her-password" });
    const id = await submit("cached@example.net");
    const first = await until(id, (v) => v.attempts_log.length >= 1);
    expect(first.attempts_log[0]).toMatchObject({
      status: "deferred",
      reply: expect.stringMatching(
        /^SASL authentication failed; server 127\.0\.0\.1\[127\.0\.0\.1\] said: 535 5\.7\.8 /,
      ),
    });
    const cache = (await admin("GET", "/relay/auth-cache")) as {
      entries: { server: string; username: string; reply: string }[];
    };
    expect(cache.entries).toEqual([
      expect.objectContaining({
        server: `127.0.0.1[127.0.0.1]:${postfix.ports.submission}`,
        username: "alice",
        reply: expect.stringMatching(/^535 5\.7\.8 /),
      }),
    ]);
    expect(JSON.stringify(cache)).not.toContain("not-her-password");

    // The retries (every second) are answered from the cache: Postfix sees no new login.
    // Postfix's own account of the first refusal (postlogd writes it a moment after the 535).
    expect(await postfix.logged(/SASL \S+ authentication failed: .*sasl_username=alice/)).toBe(true);
    const logins = failedLogins();
    const retried = await until(id, (v) => v.attempts_log.length >= 3);
    expect(retried.attempts_log.at(-1)).toMatchObject({
      status: "deferred",
      reply: expect.stringMatching(
        /^SASL \[CACHED\] authentication failed; server 127\.0\.0\.1\[127\.0\.0\.1\]:\d+ said: 535 5\.7\.8 /,
      ),
    });
    expect(failedLogins()).toBe(logins);

    // A new password clears the entry; the next run delivers.
    await admin("PUT", `/maps/sasl_passwd/${hopKey()}`, { value: "alice:alice-secret" });
    expect(await admin("GET", "/relay/auth-cache")).toEqual({ entries: [] });
    const done = await until(id, (v) => v.status === "done");
    expect(done.recipients[0]).toMatchObject({ status: "sent" });
  });

  it("smtp_sasl_auth_soft_bounce = no: the 535 bounces the message", async () => {
    await admin("PUT", "/settings/smtp_sasl_auth_soft_bounce", { value: "no" });
    await admin("PUT", `/maps/sasl_passwd/${hopKey()}`, { value: "alice:wrong-again" });
    const view = await until(await submit("bounce@example.net"), (v) => v.status === "done");
    expect(view.recipients[0]).toMatchObject({
      status: "bounced",
      reply: expect.stringMatching(/^SASL authentication failed; .* said: 535 5\.7\.8 /),
    });
  });
});
