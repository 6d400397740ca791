import { describe, expect, it } from "vitest";
import { type Connect, ConnectError, type Socket } from "../../net/socket.ts";
import { openRelaySession } from "./open-relay-session.ts";
import type { RelayOptions } from "./relay-options.ts";
import { type Script, ScriptedServer } from "./scripted-server.test-helper.ts";

const PEER = "mx.test[mx.test]";
const BASE: RelayOptions = {
  host: "mx.test",
  port: 587,
  heloName: "postern.test",
  tlsLevel: "none",
  wrapperMode: false,
  auth: null,
  timeouts: { connect: 200, greeting: 200, command: 200, data: 200 },
};
// RFC 4616 §4 example credentials.
const TIM = { username: "tim", password: "tanstaaftanstaaf" };
const TLS_EHLO = (secure: boolean) =>
  secure ? ["PIPELINING", "AUTH PLAIN LOGIN", "ENHANCEDSTATUSCODES"] : ["PIPELINING", "STARTTLS"];

async function open(script: Script, options: Partial<RelayOptions> = {}) {
  const server = new ScriptedServer(script);
  const result = await openRelaySession(server.connect, { ...BASE, ...options });
  if (result.ok) await result.session.close();
  await server.done;
  return { server, result };
}

const answering =
  (table: Record<string, string>): Script["answer"] =>
  (line) =>
    table[line] ?? table[line.split(" ", 1)[0]!];

describe("openRelaySession: connect", () => {
  const modes = [
    { name: "tlsLevel none", options: { tlsLevel: "none" }, want: "off" },
    { name: "tlsLevel may", options: { tlsLevel: "may" }, want: "starttls" },
    { name: "tlsLevel encrypt", options: { tlsLevel: "encrypt" }, want: "starttls" },
    { name: "wrapper mode", options: { tlsLevel: "encrypt", wrapperMode: true }, want: "on" },
    { name: "tlsLevel verify", options: { tlsLevel: "verify" }, want: "starttls", verify: true },
    { name: "tlsLevel secure", options: { tlsLevel: "secure" }, want: "starttls", verify: true },
    {
      name: "wrapper mode, verify",
      options: { tlsLevel: "verify", wrapperMode: true },
      want: "on",
      verify: true,
    },
  ] as const;
  for (const mode of modes) {
    const verify = "verify" in mode;
    it(`${mode.name} connects with tls "${mode.want}", ${verify ? "" : "not "}verifying`, async () => {
      const { server, result } = await open({ ehlo: TLS_EHLO }, mode.options);
      expect(result.ok).toBe(true);
      expect(server.connects).toEqual([{ host: "mx.test", port: 587, tls: mode.want, verify }]);
    });
  }

  it("wrapper mode is secure from the start and sends no STARTTLS", async () => {
    const server = new ScriptedServer({ ehlo: TLS_EHLO });
    const result = await openRelaySession(server.connect, {
      ...BASE,
      tlsLevel: "encrypt",
      wrapperMode: true,
    });
    expect(result.ok && result.session.secure).toBe(true);
    expect(server.lines).toEqual(["EHLO postern.test"]);
  });

  const failures: { name: string; connect: Connect; want: string }[] = [
    {
      name: "refused",
      connect: () =>
        Promise.reject(
          new ConnectError("connect to mx.test[mx.test]:587: Connection refused", "ECONNREFUSED"),
        ),
      want: "connect to mx.test[mx.test]:587: Connection refused",
    },
    {
      name: "a non-transient error is still deferred",
      connect: () =>
        Promise.reject(
          new ConnectError("connect to mx.test[mx.test]:25: port 25 is blocked", "ERR_PORT", false),
        ),
      want: "connect to mx.test[mx.test]:25: port 25 is blocked",
    },
    {
      name: "any other error",
      connect: () => Promise.reject(new Error("boom\r\n")),
      want: "connect to mx.test[mx.test]:587: boom??",
    },
    {
      name: "a synchronous throw",
      connect: () => {
        throw new Error("bad address");
      },
      want: "connect to mx.test[mx.test]:587: bad address",
    },
    {
      name: "no answer",
      connect: () => new Promise<Socket>(() => {}),
      want: "connect to mx.test[mx.test]:587: Connection timed out",
    },
  ];
  for (const { name, connect, want } of failures) {
    it(`connect failure: ${name}`, async () => {
      expect(await openRelaySession(connect, BASE)).toEqual({
        ok: false,
        outcome: { status: "deferred", reason: want },
      });
    });
  }

  it("refuses a HELO name that would inject a command", async () => {
    const server = new ScriptedServer();
    const result = await openRelaySession(server.connect, { ...BASE, heloName: "x\r\nRSET" });
    expect(result).toMatchObject({ ok: false, outcome: { status: "deferred" } });
    expect(server.connects).toEqual([]);
  });
});

describe("openRelaySession: greeting", () => {
  const cases: { name: string; script: Script; want: { status: string; reason: string } }[] = [
    {
      name: "554 greeting bounces",
      script: { greeting: "554 5.7.1 go away" },
      want: { status: "bounced", reason: `host ${PEER} refused to talk to me: 554 5.7.1 go away` },
    },
    {
      name: "421 greeting defers",
      script: { greeting: "421-4.3.2 busy\n421 4.3.2 try later" },
      want: {
        status: "deferred",
        reason: `host ${PEER} refused to talk to me: 421-4.3.2 busy 421 4.3.2 try later`,
      },
    },
    {
      name: "silence times out",
      script: { greeting: { after: "hang" } },
      want: {
        status: "deferred",
        reason: `conversation with ${PEER} timed out while receiving the initial server greeting`,
      },
    },
    {
      name: "a closed connection is lost",
      script: { greeting: { after: "close" } },
      want: {
        status: "deferred",
        reason: `lost connection with ${PEER} while receiving the initial server greeting`,
      },
    },
    {
      name: "a reset is lost",
      script: { greeting: { reply: "220-mx.test", after: "abort" } },
      want: {
        status: "deferred",
        reason: `lost connection with ${PEER} while receiving the initial server greeting`,
      },
    },
    {
      name: "garbage is a malformed reply",
      script: { greeting: "SSH-2.0-OpenSSH_9.6" },
      want: {
        status: "deferred",
        reason: `host ${PEER} sent a malformed reply while receiving the initial server greeting: SSH-2.0-OpenSSH_9.6`,
      },
    },
  ];
  for (const { name, script, want } of cases) {
    it(name, async () => {
      const { result } = await open(script);
      expect(result).toEqual({ ok: false, outcome: want });
    });
  }

  it("says QUIT after a refusing greeting", async () => {
    const { server } = await open({ greeting: "554 5.7.1 go away" });
    expect(server.lines).toEqual(["QUIT"]);
  });

  it("accepts a multi-line greeting with an over-long line", async () => {
    const { result, server } = await open({ greeting: `220-${"x".repeat(10_000)}\n220 mx.test ESMTP` });
    expect(result.ok).toBe(true);
    expect(server.lines).toEqual(["EHLO postern.test", "QUIT"]);
  });
});

describe("openRelaySession: EHLO and HELO", () => {
  it("falls back to HELO when EHLO gets a 5xx", async () => {
    const server = new ScriptedServer({
      answer: answering({ EHLO: "502 5.5.2 Error: command not recognized" }),
    });
    const result = await openRelaySession(server.connect, BASE);
    expect(result.ok && result.session.capabilities.esmtp).toBe(false);
    expect(server.lines).toEqual(["EHLO postern.test", "HELO postern.test"]);
  });

  it("does not fall back on a 4xx EHLO", async () => {
    const { result, server } = await open({ answer: answering({ EHLO: "421 4.3.2 shutting down" }) });
    expect(result).toEqual({
      ok: false,
      outcome: {
        status: "deferred",
        reason: `host ${PEER} said: 421 4.3.2 shutting down (in reply to EHLO command)`,
      },
    });
    expect(server.lines).not.toContain("HELO postern.test");
  });

  it("bounces when HELO is refused too", async () => {
    const { result } = await open({ answer: answering({ EHLO: "500 no", HELO: "550 5.7.1 not you" }) });
    expect(result).toEqual({
      ok: false,
      outcome: {
        status: "bounced",
        reason: `host ${PEER} said: 550 5.7.1 not you (in reply to HELO command)`,
      },
    });
  });
});

describe("openRelaySession: STARTTLS", () => {
  it("encrypt: STARTTLS, then EHLO again over TLS", async () => {
    const server = new ScriptedServer({ ehlo: TLS_EHLO });
    const result = await openRelaySession(server.connect, { ...BASE, tlsLevel: "encrypt" });
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.session.secure).toBe(true);
    expect(result.session.capabilities.auth).toEqual(["PLAIN", "LOGIN"]);
    expect(server.lines).toEqual(["EHLO postern.test", "STARTTLS", "EHLO postern.test"]);
  });

  it("drops a reply injected after the 220 before TLS (RFC 3207 §6)", async () => {
    const server = new ScriptedServer({
      ehlo: TLS_EHLO,
      answer: answering({ STARTTLS: "220 2.0.0 Ready to start TLS\n250 mx.test-injected" }),
    });
    const result = await openRelaySession(server.connect, { ...BASE, tlsLevel: "encrypt", auth: TIM });
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    // Had the injected "250" been taken as the EHLO reply, there would be no AUTH to use.
    expect(result.session.authMechanism).toBe("PLAIN");
    expect(result.session.capabilities.auth).toEqual(["PLAIN", "LOGIN"]);
  });

  it("encrypt: STARTTLS not offered defers", async () => {
    const { result, server } = await open({ ehlo: ["PIPELINING"] }, { tlsLevel: "encrypt" });
    expect(result).toEqual({
      ok: false,
      outcome: { status: "deferred", reason: `TLS is required, but was not offered by host ${PEER}` },
    });
    expect(server.lines).toEqual(["EHLO postern.test", "QUIT"]);
  });

  it("encrypt: STARTTLS refused", async () => {
    const { result } = await open(
      { ehlo: TLS_EHLO, answer: answering({ STARTTLS: "454 4.7.0 TLS not available due to local problem" }) },
      { tlsLevel: "encrypt" },
    );
    expect(result).toEqual({
      ok: false,
      outcome: {
        status: "deferred",
        reason: `TLS is required, but host ${PEER} refused to start TLS: 454 4.7.0 TLS not available due to local problem`,
      },
    });
  });

  it("may: goes on in plaintext when STARTTLS is not offered or refused", async () => {
    for (const script of [
      { ehlo: ["PIPELINING"] },
      { ehlo: TLS_EHLO, answer: answering({ STARTTLS: "454 4.7.0 no" }) },
    ]) {
      const server = new ScriptedServer(script);
      const result = await openRelaySession(server.connect, { ...BASE, tlsLevel: "may" });
      expect(result.ok && result.session.secure).toBe(false);
    }
  });

  it("may: a failed handshake is retried once in plaintext; encrypt: deferred", async () => {
    const server = new ScriptedServer({ ehlo: TLS_EHLO });
    const failingTls: Connect = async (options) => {
      const socket = await server.connect(options);
      return {
        read: () => socket.read(),
        write: (bytes) => socket.write(bytes),
        close: () => socket.close(),
        startTls: () => Promise.reject(new Error("handshake failure: bad certificate")),
        secure: false,
      };
    };
    const may = await openRelaySession(failingTls, { ...BASE, tlsLevel: "may" });
    expect(may.ok && may.session.secure).toBe(false);
    expect(server.connects.map((c) => c.tls)).toEqual(["starttls", "off"]);

    const encrypt = await openRelaySession(failingTls, { ...BASE, tlsLevel: "encrypt" });
    expect(encrypt).toEqual({
      ok: false,
      outcome: { status: "deferred", reason: "Cannot start TLS: handshake failure" },
    });
  });
});

describe("openRelaySession: AUTH", () => {
  const tls = { tlsLevel: "encrypt", auth: TIM } as const;

  it("PLAIN sends the initial response on the AUTH line (RFC 4616 example)", async () => {
    const server = new ScriptedServer({ ehlo: TLS_EHLO });
    const result = await openRelaySession(server.connect, { ...BASE, ...tls });
    expect(result.ok && result.session.authMechanism).toBe("PLAIN");
    expect(server.lines.at(-1)).toBe("AUTH PLAIN AHRpbQB0YW5zdGFhZnRhbnN0YWFm");
  });

  it("PLAIN encodes UTF-8 credentials", async () => {
    const server = new ScriptedServer({ ehlo: TLS_EHLO });
    const auth = { username: "jos\u00e9@example.com", password: "p\u00e4ss w\u00f6rd" };
    await openRelaySession(server.connect, { ...BASE, tlsLevel: "encrypt", auth });
    expect(server.lines.at(-1)).toBe("AUTH PLAIN AGpvc8OpQGV4YW1wbGUuY29tAHDDpHNzIHfDtnJk");
  });

  it("PLAIN is preferred to LOGIN whatever the server's order", async () => {
    const server = new ScriptedServer({ ehlo: (s) => (s ? ["AUTH LOGIN GSSAPI PLAIN"] : ["STARTTLS"]) });
    const result = await openRelaySession(server.connect, { ...BASE, ...tls });
    expect(result.ok && result.session.authMechanism).toBe("PLAIN");
  });

  it("LOGIN answers the Username:/Password: prompts in base64", async () => {
    const server = new ScriptedServer({ ehlo: (s) => (s ? ["AUTH LOGIN"] : ["STARTTLS"]) });
    const result = await openRelaySession(server.connect, { ...BASE, ...tls });
    expect(result.ok && result.session.authMechanism).toBe("LOGIN");
    expect(server.lines.slice(-3)).toEqual(["AUTH LOGIN", "dGlt", "dGFuc3RhYWZ0YW5zdGFhZg=="]);
  });

  it("no worthy mechanism without TLS (noplaintext)", async () => {
    const { result, server } = await open({ ehlo: ["AUTH PLAIN LOGIN"] }, { auth: TIM });
    expect(result).toEqual({
      ok: false,
      outcome: { status: "deferred", reason: "SASL authentication failure: No worthy mechs found" },
    });
    expect(server.lines.some((l) => l.startsWith("AUTH"))).toBe(false);
  });

  it("smtp_sasl_security_options without noplaintext allows PLAIN in the clear", async () => {
    const server = new ScriptedServer({ ehlo: ["AUTH PLAIN LOGIN"] });
    const result = await openRelaySession(server.connect, {
      ...BASE,
      auth: TIM,
      sasl: {
        securityOptions: "noanonymous",
        tlsSecurityOptions: "noanonymous",
        tlsVerifiedSecurityOptions: "noanonymous",
        mechanismFilter: "",
      },
    });
    expect(result.ok && result.session.authMechanism).toBe("PLAIN");
  });

  it("no worthy mechanism when the server only offers ones the client lacks", async () => {
    const { result } = await open({ ehlo: (s) => (s ? ["AUTH GSSAPI NTLM"] : ["STARTTLS"]) }, tls);
    expect(result).toMatchObject({
      ok: false,
      outcome: { reason: "SASL authentication failure: No worthy mechs found" },
    });
  });

  it("goes on unauthenticated when the server offers no AUTH", async () => {
    const server = new ScriptedServer({ ehlo: (s) => (s ? ["PIPELINING"] : ["STARTTLS"]) });
    const result = await openRelaySession(server.connect, { ...BASE, ...tls });
    expect(result.ok && result.session.authMechanism).toBeNull();
    expect(server.lines.some((l) => l.startsWith("AUTH"))).toBe(false);
  });

  it("does not authenticate without credentials", async () => {
    const server = new ScriptedServer({ ehlo: TLS_EHLO });
    const result = await openRelaySession(server.connect, { ...BASE, tlsLevel: "encrypt" });
    expect(result.ok && result.session.authMechanism).toBeNull();
  });

  const rejected = "535 5.7.8 Error: authentication failed: authentication failure";
  const failures = [
    { name: "535 defers by default (soft bounce)", options: {}, reply: rejected, status: "deferred" },
    {
      name: "535 bounces without soft bounce",
      options: { authSoftBounce: false },
      reply: rejected,
      status: "bounced",
    },
    {
      name: "454 defers even without soft bounce",
      options: { authSoftBounce: false },
      reply: "454 4.7.0 Temporary authentication failure",
      status: "deferred",
    },
  ];
  for (const { name, options, reply, status } of failures) {
    it(name, async () => {
      const { result, server } = await open(
        { ehlo: TLS_EHLO, answer: (l) => (l.startsWith("AUTH") ? reply : undefined) },
        { ...tls, ...options },
      );
      expect(result).toEqual({
        ok: false,
        outcome: {
          status,
          reason: `SASL authentication failed; server ${PEER} said: ${reply}`,
          authRejected: reply.startsWith("5"),
        },
      });
      expect(server.lines.at(-1)).toBe("QUIT");
    });
  }

  it("LOGIN: 535 after the password", async () => {
    const { result } = await open(
      {
        ehlo: (s) => (s ? ["AUTH LOGIN"] : ["STARTTLS"]),
        answer: (l) => (l === "dGFuc3RhYWZ0YW5zdGFhZg==" ? rejected : undefined),
      },
      tls,
    );
    expect(result).toEqual({
      ok: false,
      outcome: {
        status: "deferred",
        reason: `SASL authentication failed; server ${PEER} said: ${rejected}`,
        authRejected: true,
      },
    });
  });

  it("cancels an unexpected challenge with *", async () => {
    const { result, server } = await open(
      { ehlo: TLS_EHLO, answer: (l) => (l.startsWith("AUTH PLAIN") ? "334 Zm9v" : undefined) },
      tls,
    );
    expect(server.lines).toContain("*");
    expect(result).toMatchObject({
      ok: false,
      outcome: {
        reason: `SASL authentication failed; cannot authenticate to server ${PEER}: unexpected PLAIN challenge`,
      },
    });
  });

  it("never puts the password in a reason, even when the server echoes it", async () => {
    const echo = "535 5.7.8 bad AHRpbQB0YW5zdGFhZnRhbnN0YWFm tanstaaftanstaaf dGFuc3RhYWZ0YW5zdGFhZg==";
    const { result } = await open(
      { ehlo: TLS_EHLO, answer: (l) => (l.startsWith("AUTH") ? echo : undefined) },
      tls,
    );
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.outcome.reason).toBe(
      `SASL authentication failed; server ${PEER} said: 535 5.7.8 bad [redacted] [redacted] [redacted]`,
    );
  });
});

describe("openRelaySession: a server that must prove itself (SCRAM)", () => {
  const tls = { tlsLevel: "encrypt", auth: TIM } as const;
  const b64 = (text: string) => btoa(text);
  /** Answers SCRAM-SHA-256's client-first with a server-first, then `final` to the client-final. */
  const scram = (final: string): Script => ({
    ehlo: (s) => (s ? ["AUTH SCRAM-SHA-256"] : ["STARTTLS"]),
    answer: (line) => {
      if (line.startsWith("AUTH SCRAM-SHA-256 ")) {
        const nonce = /r=([^,]+)/.exec(atob(line.slice("AUTH SCRAM-SHA-256 ".length)))![1]!;
        return `334 ${b64(`r=${nonce}server,s=${b64("salt")},i=4096`)}`;
      }
      const decoded = /^[A-Za-z0-9+/=]+$/.test(line) ? atob(line) : "";
      return decoded.startsWith("c=") ? final : undefined;
    },
  });

  it("a wrong server signature fails the exchange: * and a deferral, nothing sent", async () => {
    const { result, server } = await open(scram(`334 ${b64(`v=${b64("x".repeat(32))}`)}`), tls);
    expect(server.lines.at(-2)).toBe("*");
    expect(result).toEqual({
      ok: false,
      outcome: {
        status: "deferred",
        reason: `SASL authentication failed; cannot authenticate to server ${PEER}: server signature does not match: the server does not know the credential`,
      },
    });
  });

  it("success without the server's signature is not success", async () => {
    const { result } = await open(scram("235 2.7.0 Authentication successful"), tls);
    expect(result).toEqual({
      ok: false,
      outcome: {
        status: "deferred",
        reason: `SASL authentication failed; cannot authenticate to server ${PEER}: the server did not prove that it knows the credential`,
      },
    });
  });
});

describe("openRelaySession: smtp_send_dummy_mail_auth", () => {
  const message = {
    mailFrom: "a@example.com",
    recipients: ["b@example.net"],
    size: 10,
    body: async () => new TextEncoder().encode("x\r\n"),
  };
  const cases = [
    { name: "authenticated, on: AUTH=<> on MAIL FROM", auth: TIM, dummyMailAuth: true, want: " AUTH=<>" },
    { name: "authenticated, off: nothing", auth: TIM, dummyMailAuth: false, want: "" },
    { name: "not authenticated, on: nothing", auth: null, dummyMailAuth: true, want: "" },
  ];
  for (const { name, auth, dummyMailAuth, want } of cases) {
    it(name, async () => {
      const server = new ScriptedServer({ ehlo: TLS_EHLO });
      const opened = await openRelaySession(server.connect, {
        ...BASE,
        tlsLevel: "encrypt",
        auth,
        dummyMailAuth,
      });
      if (!opened.ok) throw new Error(opened.outcome.reason);
      expect((await opened.session.send(message))[0]!.status).toBe("sent");
      await opened.session.close();
      expect(server.lines.find((l) => l.startsWith("MAIL FROM:"))).toBe(`MAIL FROM:<a@example.com>${want}`);
    });
  }
});

describe("openRelaySession: bearer tokens", () => {
  const token = "ya29.a0AfH6SMBx-token_value";
  const auth = { username: "sender@contoso.test", token };
  const ehlo = (s: boolean) => (s ? ["AUTH PLAIN LOGIN XOAUTH2 OAUTHBEARER"] : ["STARTTLS"]);

  it("OAUTHBEARER carries the token, the user and the host (RFC 7628 §3.1) in the initial response", async () => {
    const server = new ScriptedServer({ ehlo });
    const result = await openRelaySession(server.connect, { ...BASE, tlsLevel: "encrypt", auth });
    expect(result.ok && result.session.authMechanism).toBe("OAUTHBEARER");
    const line = server.lines.find((l) => l.startsWith("AUTH "))!;
    expect(atob(line.split(" ")[2]!)).toBe(
      `n,a=sender@contoso.test,\x01host=mx.test\x01port=587\x01auth=Bearer ${token}\x01\x01`,
    );
    if (result.ok) await result.session.close();
  });

  it("never puts the token in a reason, even when the server echoes it", async () => {
    const { result } = await open(
      {
        ehlo,
        answer: (l) => (l.startsWith("AUTH") ? `535 5.7.8 bad token ${token} ${l.split(" ")[2]}` : undefined),
      },
      { tlsLevel: "encrypt", auth },
    );
    expect(result).toEqual({
      ok: false,
      outcome: {
        status: "deferred",
        reason: `SASL authentication failed; server ${PEER} said: 535 5.7.8 bad token [redacted] [redacted]`,
        authRejected: true,
      },
    });
  });
});
