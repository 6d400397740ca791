import { describe, expect, it } from "vitest";
import { HOST, STRANGER, transcript } from "./transcript.test-helper.ts";

const lines = (reply: string) => reply.split("\r\n");

describe("EHLO", () => {
  it("lists the extensions in Postfix's order, without enhanced codes (RFC 2034 §3)", async () => {
    const t = await transcript();
    expect(lines(await t.ehlo())).toEqual([
      `250-${HOST}`,
      "250-PIPELINING",
      "250-SIZE 10240000",
      "250-STARTTLS",
      // Without TLS the default policy (noplaintext) leaves the challenge-response mechanisms.
      "250-AUTH SCRAM-SHA-256 SCRAM-SHA-1 DIGEST-MD5 CRAM-MD5",
      "250-ENHANCEDSTATUSCODES",
      "250-8BITMIME",
      "250-DSN",
      "250-SMTPUTF8",
      "250 CHUNKING",
    ]);
    t.expectNothing();
  });

  const cases: { name: string; options: Parameters<typeof transcript>[0]; has: string[]; lacks: string[] }[] =
    [
      {
        name: "inside TLS: no STARTTLS, and PLAIN/LOGIN are offered",
        options: { tls: {} },
        has: ["250-AUTH SCRAM-SHA-256 SCRAM-SHA-1 DIGEST-MD5 CRAM-MD5 OAUTHBEARER XOAUTH2 PLAIN LOGIN"],
        lacks: ["250-STARTTLS"],
      },
      {
        name: "with tls-exporter data: SCRAM-SHA-256-PLUS comes first",
        options: { tls: { channelBinding: new Uint8Array(32) } },
        has: [
          "250-AUTH SCRAM-SHA-256-PLUS SCRAM-SHA-256 SCRAM-SHA-1 DIGEST-MD5 CRAM-MD5 OAUTHBEARER XOAUTH2 PLAIN LOGIN",
        ],
        lacks: [],
      },
      {
        name: "smtpd_sasl_auth_enable = no: no AUTH",
        options: { smtpd: { smtpd_sasl_auth_enable: "no" } },
        has: ["250-STARTTLS"],
        lacks: ["250-AUTH"],
      },
      {
        name: "no SASL port: no AUTH",
        options: { auth: null },
        has: [],
        lacks: ["250-AUTH"],
      },
      {
        name: "smtpd_tls_auth_only before TLS: no AUTH",
        options: { smtpd: { smtpd_tls_auth_only: "yes" } },
        has: ["250-STARTTLS"],
        lacks: ["250-AUTH"],
      },
      {
        name: "smtpd_tls_auth_only inside TLS: AUTH",
        options: { tls: {}, smtpd: { smtpd_tls_auth_only: "yes" } },
        has: ["250-AUTH SCRAM-SHA-256 SCRAM-SHA-1 DIGEST-MD5 CRAM-MD5 OAUTHBEARER XOAUTH2 PLAIN LOGIN"],
        lacks: [],
      },
      {
        name: "smtpd_tls_security_level = encrypt implies smtpd_tls_auth_only",
        options: { smtpd: { smtpd_tls_security_level: "encrypt" } },
        has: ["250-STARTTLS"],
        lacks: ["250-AUTH"],
      },
      {
        name: "smtpd_tls_security_level = none: no STARTTLS",
        options: { smtpd: { smtpd_tls_security_level: "none" } },
        has: ["250-AUTH SCRAM-SHA-256 SCRAM-SHA-1 DIGEST-MD5 CRAM-MD5"],
        lacks: ["250-STARTTLS"],
      },
      {
        name: "no certificate: no STARTTLS",
        options: { tlsAvailable: false },
        has: [],
        lacks: ["250-STARTTLS"],
      },
      {
        name: "a client in smtpd_sasl_exceptions_networks is not offered AUTH",
        options: { smtpd: { smtpd_sasl_exceptions_networks: "203.0.113.0/24" } },
        has: [],
        lacks: ["250-AUTH"],
      },
      {
        name: "an excluded address in smtpd_sasl_exceptions_networks is",
        options: { smtpd: { smtpd_sasl_exceptions_networks: "!203.0.113.5 203.0.113.0/24" } },
        has: ["250-AUTH SCRAM-SHA-256 SCRAM-SHA-1 DIGEST-MD5 CRAM-MD5"],
        lacks: [],
      },
      {
        name: "broken_sasl_auth_clients adds the AUTH= form",
        options: { smtpd: { broken_sasl_auth_clients: "yes" }, tls: {} },
        has: [
          "250-AUTH SCRAM-SHA-256 SCRAM-SHA-1 DIGEST-MD5 CRAM-MD5 OAUTHBEARER XOAUTH2 PLAIN LOGIN",
          "250-AUTH=SCRAM-SHA-256 SCRAM-SHA-1 DIGEST-MD5 CRAM-MD5 OAUTHBEARER XOAUTH2 PLAIN LOGIN",
        ],
        lacks: [],
      },
      {
        name: "a mechanism filter narrows the list",
        options: { tls: {}, settings: { smtpd_sasl_mechanism_filter: "plain, login" } },
        has: ["250-AUTH PLAIN LOGIN"],
        lacks: [],
      },
      {
        name: "a broken mechanism policy leaves AUTH out instead of failing EHLO",
        options: { settings: { smtpd_sasl_security_options: "nonsense" } },
        has: ["250-PIPELINING"],
        lacks: ["250-AUTH"],
      },
      {
        name: "message_size_limit = 0: SIZE without a number",
        options: { settings: { message_size_limit: "0" } },
        has: ["250-SIZE"],
        lacks: ["250-SIZE 10240000"],
      },
    ];
  for (const { name, options, has, lacks } of cases) {
    it(name, async () => {
      const t = await transcript(options);
      const reply = lines(await t.ehlo());
      for (const line of has) expect(reply).toContain(line);
      for (const line of lacks) expect(reply.some((l) => l.startsWith(line))).toBe(false);
    });
  }

  it("logs why AUTH is missing when the mechanism policy is broken", async () => {
    const t = await transcript({ settings: { smtpd_sasl_security_options: "nonsense" } });
    await t.ehlo();
    expect(t.logs.some((line) => line.startsWith("warn: warning: SASL mechanisms unavailable:"))).toBe(true);
  });

  it("needs a name", async () => {
    const t = await transcript();
    await t.send("EHLO\r\n");
    t.expect("501 5.5.4 Syntax: EHLO hostname");
    await t.send("HELO  \r\n");
    t.expect("501 5.5.4 Syntax: HELO hostname");
  });

  it("joins a name of several words, as Postfix does", async () => {
    const t = await transcript({ tls: {} });
    await t.ehlo("my  old\tscanner");
    await t.login("alice", "alice-password");
    await t.envelope("alice@example.com", "bob@remote.test");
    await t.send("DATA\r\n");
    t.expect(/^354 /);
    await t.send("x\r\n.\r\n");
    t.expect("250 2.0.0 Ok: queued as QID1");
    expect(t.accepted[0]?.envelope.helo).toBe("my old scanner");
  });

  it("resets a transaction in progress (RFC 5321 §4.1.4)", async () => {
    const t = await transcript({ tls: {} });
    await t.ehlo();
    await t.login("alice", "alice-password");
    await t.envelope("alice@example.com", "bob@remote.test");
    await t.ehlo();
    await t.send("RCPT TO:<carol@remote.test>\r\n");
    t.expect("503 5.5.1 Error: need MAIL command");
    // The login survives EHLO (only STARTTLS forgets it).
    await t.send("AUTH PLAIN\r\n");
    t.expect("503 5.5.1 Error: already authenticated");
  });
});

describe("HELO", () => {
  it("answers with the host name only, and the session is SMTP, not ESMTP", async () => {
    const t = await transcript({ client: STRANGER, settings: { relay_domains: "remote.test" } });
    await t.send("HELO c.example\r\n");
    t.expect(`250 ${HOST}`);
    await t.send("MAIL FROM:<>\r\n");
    t.expect("250 2.1.0 Ok");
    await t.send("RCPT TO:<nobody@elsewhere.test>\r\n");
    t.expect("554 5.7.1 <nobody@elsewhere.test>: Relay access denied");
    expect(t.logs).toContain(
      "NOQUEUE: reject: RCPT from client.example[203.0.113.5]: 554 5.7.1 <nobody@elsewhere.test>: Relay access denied; from=<> to=<nobody@elsewhere.test> proto=SMTP helo=<c.example>",
    );
    await t.send("RCPT TO:<bob@remote.test>\r\n");
    t.expect("250 2.1.5 Ok");
    await t.send("DATA\r\n");
    t.expect(/^354 /);
    await t.send("x\r\n.\r\n");
    t.expect("250 2.0.0 Ok: queued as QID1");
    expect(t.accepted[0]?.envelope.protocol).toBe("SMTP");
    expect(t.accepted[0]?.message).toMatch(/ with SMTP id QID1\r\n/);
  });
});
