import { describe, expect, it } from "vitest";
import { HOST, plain, transcript } from "./transcript.test-helper.ts";

describe("STARTTLS (RFC 3207)", () => {
  it("220, the starttls output, then a fresh session over TLS", async () => {
    const t = await transcript();
    await t.ehlo();
    await t.send("STARTTLS\r\n");
    t.expect("220 2.0.0 Ready to start TLS");
    t.expectStartTls();
    t.expectNothing();
    t.session.tlsStarted({});
    // RFC 3207 §4.2: the server forgets the EHLO.
    await t.send("MAIL FROM:<>\r\n");
    t.expect("503 5.5.1 Error: send HELO/EHLO first");
    const ehlo = await t.ehlo();
    expect(ehlo).not.toMatch(/STARTTLS/);
    expect(ehlo).toMatch(/AUTH .*PLAIN LOGIN/);
    await t.login("alice", "alice-password");
    await t.envelope("alice@example.com", "bob@remote.test");
    await t.send("DATA\r\n");
    await t.send(".\r\n");
    expect(t.drain()).toEqual([expect.stringMatching(/^354 /), "250 2.0.0 Ok: queued as QID1"]);
    expect(t.accepted[0]?.envelope).toMatchObject({ tls: true, protocol: "ESMTPSA" });
  });

  it("forgets a login and a transaction from before TLS", async () => {
    const t = await transcript({ smtpd: { smtpd_forbid_unauth_pipelining: "no" } });
    await t.ehlo();
    await t.send("MAIL FROM:<>\r\n");
    t.expect("250 2.1.0 Ok");
    await t.send("STARTTLS\r\n");
    t.expect(/^220 /);
    t.expectStartTls();
    t.session.tlsStarted({});
    await t.ehlo();
    await t.send("RCPT TO:<bob@remote.test>\r\n");
    t.expect("503 5.5.1 Error: need MAIL command");
  });

  it("drops plaintext pipelined after STARTTLS in the same write", async () => {
    const t = await transcript();
    await t.ehlo();
    const injected = `AUTH PLAIN ${plain("alice", "alice-password")}\r\nMAIL FROM:<alice@example.com>\r\n`;
    await t.send(`STARTTLS\r\n${injected}`);
    t.expect("220 2.0.0 Ready to start TLS");
    t.expectStartTls();
    t.expectNothing();
    expect(t.logs).toContain(
      `warn: warning: client.example[203.0.113.5]: discarding ${injected.length} bytes of plaintext pipelined after STARTTLS`,
    );
    t.session.tlsStarted({});
    await t.ehlo();
    await t.send("MAIL FROM:<alice@example.com>\r\nRCPT TO:<bob@remote.test>\r\n");
    // Not authenticated: the injected AUTH did not count.
    expect(t.drain()).toEqual([
      "250 2.1.0 Ok",
      "553 5.7.1 <alice@example.com>: Sender address rejected: not logged in",
    ]);
  });

  it("drops plaintext that arrives before the handshake is reported", async () => {
    const t = await transcript();
    await t.ehlo();
    await t.send("STARTTLS\r\n");
    t.drain();
    expect(await t.send("MAIL FROM:<injected@example.com>\r\n")).toEqual([]);
    t.session.tlsStarted({});
    await t.send("MAIL FROM:<>\r\n");
    t.expect("503 5.5.1 Error: send HELO/EHLO first");
  });

  const refusals = [
    {
      name: "inside TLS already",
      options: { tls: {} },
      command: "STARTTLS",
      want: "554 5.5.1 Error: TLS already active",
    },
    { name: "with an argument", options: {}, command: "STARTTLS now", want: "501 5.5.4 Syntax: STARTTLS" },
    {
      name: "no certificate",
      options: { tlsAvailable: false },
      command: "STARTTLS",
      want: "502 5.5.1 Error: command not implemented",
    },
    {
      name: "smtpd_tls_security_level = none",
      options: { smtpd: { smtpd_tls_security_level: "none" } },
      command: "STARTTLS",
      want: "502 5.5.1 Error: command not implemented",
    },
  ];
  for (const { name, options, command, want } of refusals) {
    it(`refused: ${name}`, async () => {
      const t = await transcript(options);
      await t.ehlo();
      await t.send(`${command}\r\n`);
      t.expect(want);
      t.expectNothing();
    });
  }

  it("needs EHLO first", async () => {
    const t = await transcript();
    await t.send("STARTTLS\r\n");
    t.expect("503 5.5.1 Error: send HELO/EHLO first");
  });

  it("tlsStarted() without a STARTTLS is ignored", async () => {
    const t = await transcript();
    t.session.tlsStarted({});
    const ehlo = await t.ehlo();
    expect(ehlo).toMatch(/STARTTLS/);
  });
});

describe("smtpd_tls_security_level = encrypt", () => {
  const commands = ["MAIL FROM:<>", "RCPT TO:<a@remote.test>", "DATA", "VRFY bob", "AUTH SCRAM-SHA-256"];
  for (const command of commands) {
    it(`${command.split(" ")[0]} before STARTTLS: 530 5.7.0`, async () => {
      const t = await transcript({ smtpd: { smtpd_tls_security_level: "encrypt" } });
      await t.ehlo();
      await t.send(`${command}\r\n`);
      t.expect("530 5.7.0 Must issue a STARTTLS command first");
    });
  }

  it("BDAT before STARTTLS: its chunk is read, then 530", async () => {
    const t = await transcript({ smtpd: { smtpd_tls_security_level: "encrypt" } });
    await t.ehlo();
    await t.send("BDAT 6 LAST\r\nNOOP\r\nNOOP\r\n");
    expect(t.drain()).toEqual(["530 5.7.0 Must issue a STARTTLS command first", "250 2.0.0 Ok"]);
  });

  it("EHLO, NOOP, RSET, HELP and QUIT work before STARTTLS", async () => {
    const t = await transcript({ smtpd: { smtpd_tls_security_level: "encrypt" } });
    await t.ehlo();
    for (const command of ["NOOP", "RSET", "HELP"]) {
      await t.send(`${command}\r\n`);
      t.expect(/^2\d\d /);
    }
    await t.send("QUIT\r\n");
    t.expect("221 2.0.0 Bye");
    t.expectClose();
  });

  it("after STARTTLS mail flows", async () => {
    const t = await transcript({ smtpd: { smtpd_tls_security_level: "encrypt" } });
    await t.ehlo();
    await t.send("STARTTLS\r\n");
    t.drain();
    t.session.tlsStarted({});
    const ehlo = await t.ehlo();
    expect(ehlo).toMatch(/^250-AUTH /m);
    await t.login("alice", "alice-password");
    await t.envelope("alice@example.com", "bob@remote.test");
    await t.send("DATA\r\n");
    await t.send("x\r\n.\r\n");
    expect(t.drain()).toEqual([expect.stringMatching(/^354 /), "250 2.0.0 Ok: queued as QID1"]);
    expect(t.accepted[0]?.message).toMatch(new RegExp(`by ${HOST} \\(Postern\\) with ESMTPSA id QID1`));
  });
});
