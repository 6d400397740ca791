// Attacks on the SMTP session: credentials before TLS, plaintext injection after STARTTLS, SMTP
// smuggling through bare newlines, over-long lines, relaying, header and log injection, protocol
// confusion, brute force.
import { describe, expect, it } from "vitest";
import type { RecipientRequest } from "./session-ports.ts";
import { base64, plain, type Transcript, tlsTranscript, transcript } from "./transcript.test-helper.ts";

describe("credentials never travel in plaintext", () => {
  it("PLAIN and LOGIN are not announced without TLS, and AUTH PLAIN is refused before any check", async () => {
    const checked: string[] = [];
    const t = await transcript({
      context: {
        credentials: {
          scram: async () => null,
          sharedSecret: async () => null,
          verifyPassword: async (login) => {
            checked.push(login);
            return true;
          },
        },
      },
    });
    const ehlo = await t.ehlo();
    expect(ehlo).not.toMatch(/\bPLAIN\b|\bLOGIN\b|OAUTHBEARER|XOAUTH2/);
    for (const command of [
      `AUTH PLAIN ${plain("alice", "alice-password")}`,
      "AUTH LOGIN",
      "AUTH XOAUTH2 dGVzdA==",
    ]) {
      await t.send(`${command}\r\n`);
      t.expect("538 5.7.11 Encryption required for requested authentication mechanism");
    }
    expect(checked).toEqual([]);
  });

  it("smtpd_tls_auth_only: no mechanism at all before TLS", async () => {
    const t = await transcript({ smtpd: { smtpd_tls_auth_only: "yes" } });
    await t.ehlo();
    await t.send("AUTH SCRAM-SHA-256 biwsbj1hbGljZSxyPWFiYw==\r\n");
    t.expect("538 5.7.11 Encryption required for requested authentication mechanism");
  });
});

describe("STARTTLS plaintext injection (CVE-2011-0411)", () => {
  const injections = [
    "RSET\r\nMAIL FROM:<alice@example.com>\r\n",
    `AUTH PLAIN ${plain("alice", "alice-password")}\r\n`,
    "EHLO attacker\r\n",
  ];
  for (const injection of injections) {
    it(`'${injection.split("\r\n")[0]}' pipelined after STARTTLS has no effect`, async () => {
      const requests: RecipientRequest[] = [];
      const t = await transcript({
        policy: {
          recipient: async (request) => {
            requests.push(request);
            return { decision: "permit", warnings: [] };
          },
        },
      });
      await t.ehlo();
      await t.send(`STARTTLS\r\n${injection}`);
      expect(t.drain()).toEqual(["220 2.0.0 Ready to start TLS"]);
      t.session.tlsStarted({});
      await t.send("EHLO c.example\r\n");
      t.drain();
      await t.send("RCPT TO:<x@remote.test>\r\n");
      t.expect("503 5.5.1 Error: need MAIL command");
      await t.send("MAIL FROM:<alice@example.com>\r\nRCPT TO:<x@remote.test>\r\n");
      t.drain();
      expect(requests.map((request) => [request.sasl, request.helo])).toEqual([[null, "c.example"]]);
    });
  }
});

describe("SMTP smuggling", () => {
  // After the fake end of data, the attacker's second message: a forged sender and recipient.
  const SMUGGLED = "MAIL FROM:<ceo@example.com>\r\nRCPT TO:<victim@remote.test>\r\nDATA\r\nforged\r\n";
  const endings = [
    { name: "LF . LF", fake: "\n.\n" },
    { name: "LF . CRLF", fake: "\n.\r\n" },
    { name: "CRLF . LF", fake: "\r\n.\n" },
    { name: "CR . CR", fake: "\r.\r" },
    { name: "CRLF . CR", fake: "\r\n.\r" },
    { name: "CR . CRLF", fake: "\r.\r\n" },
  ];

  async function smuggle(
    fake: string,
    options: Parameters<typeof tlsTranscript>[0] = {},
  ): Promise<{ t: Transcript; recipients: string[] }> {
    const recipients: string[] = [];
    const t = await tlsTranscript({
      ...options,
      policy: {
        recipient: async (request) => {
          recipients.push(request.recipient);
          return { decision: "permit", warnings: [] };
        },
      },
    });
    await t.login("alice", "alice-password");
    await t.envelope("alice@example.com", "bob@remote.test");
    await t.send("DATA\r\n");
    t.expect(/^354 /);
    await t.send(`Subject: hello\r\n\r\nhi${fake}${SMUGGLED}.\r\n`);
    return { t, recipients };
  }

  for (const { name, fake } of endings) {
    it(`${name}: refused with 521 and the connection closed (reject, the default)`, async () => {
      const { t, recipients } = await smuggle(fake);
      expect(t.drain()).toEqual([expect.stringMatching(/^521 5\.5\.2 Error: bare <(LF|CR)> received$/)]);
      expect(t.session.closed).toBe(true);
      expect(t.accepted).toEqual([]);
      expect(recipients).toEqual(["bob@remote.test"]);
    });

    it(`${name}: one message, the smuggled commands are content (normalize)`, async () => {
      const { t, recipients } = await smuggle(fake, { smtpd: { smtpd_forbid_bare_newline: "normalize" } });
      expect(t.drain()).toEqual(["250 2.0.0 Ok: queued as QID1"]);
      expect(t.accepted).toHaveLength(1);
      expect(t.accepted[0]?.message).toContain("MAIL FROM:<ceo@example.com>\r\n");
      expect(recipients).toEqual(["bob@remote.test"]);
    });
  }

  it("BDAT content cannot end early: a '.' line inside a chunk is data", async () => {
    const recipients: string[] = [];
    const t = await tlsTranscript({
      policy: {
        recipient: async (request) => {
          recipients.push(request.recipient);
          return { decision: "permit", warnings: [] };
        },
      },
    });
    await t.login("alice", "alice-password");
    await t.envelope("alice@example.com", "bob@remote.test");
    const chunk = `hi\r\n.\r\n${SMUGGLED}`;
    await t.send(`BDAT ${chunk.length} LAST\r\n${chunk}`);
    expect(t.drain()).toEqual(["250 2.0.0 Ok: queued as QID1"]);
    expect(recipients).toEqual(["bob@remote.test"]);
  });
});

describe("over-long input", () => {
  it("a command line without end is skipped in bounded memory, then answered once", async () => {
    const t = await transcript();
    await t.ehlo();
    const junk = new Uint8Array(1024 * 1024).fill(0x41);
    for (let i = 0; i < 16; i++) expect(await t.send(junk)).toEqual([]);
    await t.send("\r\nNOOP\r\n");
    expect(t.drain()).toEqual(["500 5.5.2 Error: line too long", "250 2.0.0 Ok"]);
  });

  it("an AUTH response without end is cut at smtpd_sasl_response_limit", async () => {
    const t = await tlsTranscript();
    await t.send("AUTH PLAIN\r\n");
    t.expect("334 ");
    await t.send("A".repeat(100_000));
    await t.send("\r\n");
    t.expect("500 5.5.6 SASL response limit exceeded");
  });

  it("DATA past message_size_limit keeps nothing beyond the limit", async () => {
    const t = await tlsTranscript({ settings: { message_size_limit: "1000" } });
    await t.login("alice", "alice-password");
    await t.envelope("alice@example.com", "bob@remote.test");
    await t.send("DATA\r\n");
    t.expect(/^354 /);
    const line = `${"x".repeat(998)}\r\n`;
    for (let i = 0; i < 1000; i++) await t.send(line);
    await t.send(".\r\n");
    t.expect("552 5.3.4 Message size exceeds fixed limit");
    expect(t.accepted).toEqual([]);
  });
});

describe("relaying", () => {
  const attempts = [
    {
      name: "a remote recipient",
      rcpt: "<victim@remote.test>",
      want: "554 5.7.1 <victim@remote.test>: Relay access denied",
    },
    {
      name: "a source route through this host",
      rcpt: "<@mx.postern.test:victim@remote.test>",
      want: "554 5.7.1 <victim@remote.test>: Relay access denied",
    },
    {
      name: "a percent hack",
      rcpt: "<victim%remote.test@elsewhere.test>",
      want: "554 5.7.1 <victim%remote.test@elsewhere.test>: Relay access denied",
    },
    { name: "a bang path", rcpt: "<remote.test!victim>", want: "501 5.1.3 Bad recipient address syntax" },
    {
      name: "a double @",
      rcpt: "<victim@remote.test@postern.test>",
      want: "501 5.1.3 Bad recipient address syntax",
    },
  ];
  for (const { name, rcpt, want } of attempts) {
    it(`an unauthenticated client cannot relay to ${name}`, async () => {
      const t = await transcript();
      await t.ehlo();
      await t.send(`MAIL FROM:<>\r\nRCPT TO:${rcpt}\r\n`);
      expect(t.drain()).toEqual(["250 2.1.0 Ok", want]);
    });
  }

  it("a failed login does not open the relay", async () => {
    const t = await tlsTranscript();
    await t.send(`AUTH PLAIN ${plain("alice", "nope")}\r\n`);
    t.expect(/^535 /);
    await t.send("MAIL FROM:<>\r\nRCPT TO:<victim@remote.test>\r\n");
    expect(t.drain()).toEqual(["250 2.1.0 Ok", "554 5.7.1 <victim@remote.test>: Relay access denied"]);
  });

  it("an authzid the login may not act as is refused (authzid != authcid)", async () => {
    const t = await tlsTranscript();
    await t.send(`AUTH PLAIN ${plain("alice", "alice-password", "bob")}\r\n`);
    t.expect("535 5.7.8 Error: authentication failed: authentication failure");
    expect(t.logs).toContain(
      "warn: warning: client.example[203.0.113.5]: SASL PLAIN authentication failed: not authorized to act as bob, sasl_username=alice",
    );
  });

  it("the AUTH= parameter of an unauthenticated client claims nothing", async () => {
    const t = await transcript();
    await t.ehlo();
    await t.send("MAIL FROM:<> AUTH=alice+40example.com\r\nRCPT TO:<victim@remote.test>\r\n");
    expect(t.drain()).toEqual(["250 2.1.0 Ok", "554 5.7.1 <victim@remote.test>: Relay access denied"]);
  });
});

describe("header and log injection", () => {
  it("a HELO name with a bare CR cannot add a header line", async () => {
    const t = await tlsTranscript({ smtpd: { smtpd_forbid_bare_newline: "normalize" } });
    await t.send("EHLO evil\rBcc: everyone@example.com\r\n");
    t.drain();
    await t.login("alice", "alice-password");
    await t.envelope("alice@example.com", "bob@remote.test");
    await t.send("DATA\r\n");
    await t.send("x\r\n.\r\n");
    t.drain();
    const headerLines = t.accepted[0]!.message.split("\r\n");
    expect(headerLines[0]).toBe(
      "Received: from evil Bcc: everyone@example.com (client.example [203.0.113.5])",
    );
    expect(headerLines.some((line) => line.startsWith("Bcc:"))).toBe(false);
  });

  it("a login with control characters reaches the log printable", async () => {
    const t = await tlsTranscript();
    await t.send(`AUTH PLAIN ${base64("\0mallory\r\nforged: line\0x")}\r\n`);
    t.drain();
    for (const line of t.logs) expect(line).not.toMatch(/[\r\n]/);
    expect(t.logs.some((line) => line.includes("sasl_username=mallory??forged: line"))).toBe(true);
  });

  it("the reverse DNS name from the driver is printable in the header", async () => {
    const t = await tlsTranscript({ client: { address: "2001:db8::5", name: "evil\r\nX-Header: 1" } });
    await t.login("alice", "alice-password");
    await t.envelope("alice@example.com", "bob@remote.test");
    await t.send("DATA\r\n");
    await t.send("x\r\n.\r\n");
    t.drain();
    expect(t.accepted[0]!.message.split("\r\n")[0]).toBe(
      "Received: from c.example (evil??X-Header: 1 [IPv6:2001:db8::5])",
    );
  });

  it("a NUL in an address is refused", async () => {
    const t = await transcript();
    await t.ehlo();
    await t.send("MAIL FROM:<a\0b@example.com>\r\n");
    t.expect("501 5.1.7 Bad sender address syntax");
  });
});

describe("protocol confusion", () => {
  for (const request of ["GET / HTTP/1.1", "POST /v1/messages HTTP/1.1", "CONNECT mx:25 HTTP/1.1"]) {
    it(`an HTTP request (${request.split(" ")[0]}) ends the session before anything else runs`, async () => {
      const t = await transcript();
      await t.send(`${request}\r\nHost: mx\r\n\r\nMAIL FROM:<x@y>\r\n`);
      expect(t.drain()).toEqual(["221 2.7.0 Error: I can break rules, too. Goodbye."]);
      expect(t.session.closed).toBe(true);
    });
  }
});

describe("password guessing", () => {
  it("slows down after 10 failures and disconnects at 20, with one log line per failure", async () => {
    const t = await tlsTranscript();
    let delays = 0;
    for (let i = 0; i < 30 && !t.session.closed; i++) {
      const outputs = await t.send(`AUTH PLAIN ${plain("alice", `guess-${i}`)}\r\n`);
      delays += outputs.filter((output) => output.kind === "delay").length;
    }
    expect(t.session.closed).toBe(true);
    expect(t.logs.filter((line) => line.includes("SASL PLAIN authentication failed"))).toHaveLength(20);
    expect(delays).toBeGreaterThanOrEqual(9);
  });
});
