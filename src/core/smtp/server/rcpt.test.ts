import { describe, expect, it } from "vitest";
import type { RecipientRequest } from "./session-ports.ts";
import { tlsTranscript, transcript } from "./transcript.test-helper.ts";

const PEER = "client.example[203.0.113.5]";

describe("RCPT TO: syntax and parameters", () => {
  const cases: { name: string; argument: string; want: string }[] = [
    { name: "a plain path", argument: "TO:<bob@remote.test>", want: "250 2.1.5 Ok" },
    { name: "no brackets", argument: "TO: bob@remote.test", want: "250 2.1.5 Ok" },
    { name: "a source route is ignored", argument: "TO:<@hop.test:bob@remote.test>", want: "250 2.1.5 Ok" },
    { name: "NOTIFY=NEVER", argument: "TO:<bob@remote.test> NOTIFY=NEVER", want: "250 2.1.5 Ok" },
    {
      name: "NOTIFY list",
      argument: "TO:<bob@remote.test> NOTIFY=success,FAILURE,DELAY",
      want: "250 2.1.5 Ok",
    },
    {
      name: "NOTIFY=NEVER with others",
      argument: "TO:<bob@remote.test> NOTIFY=NEVER,SUCCESS",
      want: "501 5.5.4 Bad NOTIFY parameter syntax",
    },
    {
      name: "NOTIFY repeated value",
      argument: "TO:<bob@remote.test> NOTIFY=DELAY,DELAY",
      want: "501 5.5.4 Bad NOTIFY parameter syntax",
    },
    {
      name: "NOTIFY unknown value",
      argument: "TO:<bob@remote.test> NOTIFY=ALWAYS",
      want: "501 5.5.4 Bad NOTIFY parameter syntax",
    },
    { name: "ORCPT", argument: "TO:<bob@remote.test> ORCPT=rfc822;bob+40remote.test", want: "250 2.1.5 Ok" },
    {
      name: "ORCPT without a type",
      argument: "TO:<bob@remote.test> ORCPT=bob+40remote.test",
      want: "501 5.5.4 Bad ORCPT parameter syntax",
    },
    {
      name: "ORCPT with bad xtext",
      argument: "TO:<bob@remote.test> ORCPT=rfc822;b+g",
      want: "501 5.5.4 Bad ORCPT parameter syntax",
    },
    {
      name: "a parameter twice",
      argument: "TO:<bob@remote.test> NOTIFY=NEVER NOTIFY=NEVER",
      want: "501 5.5.4 Duplicate NOTIFY parameter",
    },
    {
      name: "an unknown parameter",
      argument: "TO:<bob@remote.test> XFOO=1",
      want: "555 5.5.4 Unsupported option: XFOO=1",
    },
    {
      name: "a MAIL parameter",
      argument: "TO:<bob@remote.test> SIZE=1",
      want: "555 5.5.4 Unsupported option: SIZE=1",
    },
    { name: "no colon", argument: "<bob@remote.test>", want: "501 5.5.4 Syntax: RCPT TO:<address>" },
    { name: "the null path", argument: "TO:<>", want: "501 5.1.3 Bad recipient address syntax" },
    { name: "no domain", argument: "TO:<bob>", want: "501 5.1.3 Bad recipient address syntax" },
    {
      name: "an unclosed path",
      argument: "TO:<bob@remote.test",
      want: "501 5.1.3 Bad recipient address syntax",
    },
    {
      name: "a UTF-8 recipient without SMTPUTF8 on MAIL",
      argument: "TO:<b\u00f8b@remote.test>",
      want: "553 5.6.7 Must declare SMTPUTF8 to send unicode address",
    },
  ];
  for (const { name, argument, want } of cases) {
    it(name, async () => {
      const t = await tlsTranscript();
      await t.login("alice", "alice-password");
      await t.send("MAIL FROM:<alice@example.com>\r\n");
      t.expect("250 2.1.0 Ok");
      await t.send(`RCPT ${argument}\r\n`);
      t.expect(want);
    });
  }

  it("needs MAIL first", async () => {
    const t = await tlsTranscript();
    await t.send("RCPT TO:<bob@remote.test>\r\n");
    t.expect("503 5.5.1 Error: need MAIL command");
  });

  it("carries NOTIFY and ORCPT into the envelope", async () => {
    const t = await tlsTranscript();
    await t.login("alice", "alice-password");
    await t.send("MAIL FROM:<alice@example.com>\r\n");
    t.expect("250 2.1.0 Ok");
    await t.send("RCPT TO:<bob@remote.test> NOTIFY=FAILURE,DELAY ORCPT=RFC822;Bob+40Remote.test\r\n");
    t.expect("250 2.1.5 Ok");
    await t.send("RCPT TO:<carol@remote.test>\r\n");
    t.expect("250 2.1.5 Ok");
    await t.send("DATA\r\n");
    t.expect(/^354 /);
    await t.send(".\r\n");
    t.expect(/^250 /);
    expect(t.accepted[0]?.envelope.recipients).toEqual([
      { address: "bob@remote.test", notify: ["FAILURE", "DELAY"], orcpt: "rfc822;Bob@Remote.test" },
      { address: "carol@remote.test", notify: null, orcpt: null },
    ]);
  });

  it("a UTF-8 recipient with SMTPUTF8", async () => {
    const t = await tlsTranscript();
    await t.login("alice", "alice-password");
    await t.send("MAIL FROM:<alice@example.com> SMTPUTF8\r\nRCPT TO:<b\u00f8b@remote.test>\r\n");
    expect(t.drain()).toEqual(["250 2.1.0 Ok", "250 2.1.5 Ok"]);
  });

  it("smtpd_recipient_limit: 452 4.5.3 beyond it, and the accepted ones still go", async () => {
    const t = await tlsTranscript({ settings: { smtpd_recipient_limit: "2" } });
    await t.login("alice", "alice-password");
    await t.envelope("alice@example.com", "a@remote.test", "b@remote.test");
    await t.send("RCPT TO:<c@remote.test>\r\n");
    t.expect("452 4.5.3 Error: too many recipients");
    await t.send("DATA\r\n");
    t.expect(/^354 /);
    await t.send(".\r\n");
    t.expect(/^250 /);
    expect(t.accepted[0]?.envelope.recipients.map((r) => r.address)).toEqual([
      "a@remote.test",
      "b@remote.test",
    ]);
  });
});

describe("RCPT TO: the restriction lists", () => {
  it("relaying for a stranger is refused with Postfix's reply and log line", async () => {
    const t = await transcript();
    await t.ehlo();
    await t.send("MAIL FROM:<someone@elsewhere.test>\r\n");
    t.expect("250 2.1.0 Ok");
    await t.send("RCPT TO:<victim@remote.test>\r\n");
    t.expect("554 5.7.1 <victim@remote.test>: Relay access denied");
    expect(t.logs).toContain(
      `NOQUEUE: reject: RCPT from ${PEER}: 554 5.7.1 <victim@remote.test>: Relay access denied; from=<someone@elsewhere.test> to=<victim@remote.test> proto=ESMTP helo=<c.example>`,
    );
    // Mail to a local domain needs no relay permission.
    await t.send("RCPT TO:<postmaster@postern.test>\r\n");
    t.expect("250 2.1.5 Ok");
    expect(t.logs).toContain(`QID1: client=${PEER}`);
  });

  it("defer_unauth_destination answers 454 4.7.1 (Postfix's default relay restriction)", async () => {
    const t = await transcript({
      settings: {
        smtpd_relay_restrictions: "permit_mynetworks, permit_sasl_authenticated, defer_unauth_destination",
      },
    });
    await t.ehlo();
    await t.send("MAIL FROM:<>\r\nRCPT TO:<victim@remote.test>\r\n");
    expect(t.drain()).toEqual(["250 2.1.0 Ok", "454 4.7.1 <victim@remote.test>: Relay access denied"]);
  });

  it("an authenticated client relays for the addresses its login owns", async () => {
    const t = await tlsTranscript();
    await t.login("alice", "alice-password");
    await t.envelope("alice@example.com", "bob@remote.test");
    expect(t.logs).toContain(`QID1: client=${PEER}, sasl_method=PLAIN, sasl_username=alice`);
  });

  it("sender login mismatch: an authenticated client using another login's address", async () => {
    const t = await tlsTranscript();
    await t.login("alice", "alice-password");
    await t.send("MAIL FROM:<bob@example.com>\r\n");
    t.expect("250 2.1.0 Ok");
    await t.send("RCPT TO:<carol@remote.test>\r\n");
    t.expect("553 5.7.1 <bob@example.com>: Sender address rejected: not owned by user alice");
    expect(t.logs).toContain(
      `NOQUEUE: reject: RCPT from ${PEER}: 553 5.7.1 <bob@example.com>: Sender address rejected: not owned by user alice; from=<bob@example.com> to=<carol@remote.test> proto=ESMTP helo=<c.example>`,
    );
  });

  it("sender login mismatch: an unlisted address is refused to an authenticated client too", async () => {
    const t = await tlsTranscript();
    await t.login("alice", "alice-password");
    await t.send("MAIL FROM:<anyone@elsewhere.test>\r\nRCPT TO:<carol@remote.test>\r\n");
    expect(t.drain()).toEqual([
      "250 2.1.0 Ok",
      "553 5.7.1 <anyone@elsewhere.test>: Sender address rejected: not owned by user alice",
    ]);
  });

  it("an unauthenticated client using an owned address is told to log in, even from mynetworks", async () => {
    const t = await transcript({ settings: { mynetworks: "203.0.113.0/24" } });
    await t.ehlo();
    await t.send("MAIL FROM:<alice@example.com>\r\nRCPT TO:<carol@remote.test>\r\n");
    expect(t.drain()).toEqual([
      "250 2.1.0 Ok",
      "553 5.7.1 <alice@example.com>: Sender address rejected: not logged in",
    ]);
    // An address nobody owns relays from mynetworks.
    await t.send("RSET\r\nMAIL FROM:<printer@office.test>\r\nRCPT TO:<carol@remote.test>\r\n");
    expect(t.drain()).toEqual(["250 2.0.0 Ok", "250 2.1.0 Ok", "250 2.1.5 Ok"]);
  });

  it("a later rejection is logged with the queue id once one was assigned", async () => {
    const t = await transcript({
      settings: {
        mynetworks: "203.0.113.0/24",
        smtpd_recipient_restrictions: "check_sasl_access inline:{ x=y }, reject_unauth_destination",
      },
    });
    await t.ehlo();
    await t.send("MAIL FROM:<>\r\nRCPT TO:<a@postern.test>\r\nRCPT TO:<b@remote.test>\r\n");
    expect(t.drain()).toEqual([
      "250 2.1.0 Ok",
      "250 2.1.5 Ok",
      "554 5.7.1 <b@remote.test>: Relay access denied",
    ]);
    expect(t.logs.some((line) => line.startsWith(`QID1: reject: RCPT from ${PEER}: 554 5.7.1`))).toBe(true);
  });

  it("check_sasl_access HOLD and DISCARD mark the message; the marks reach the envelope and the log", async () => {
    const t = await tlsTranscript({
      settings: {
        smtpd_recipient_restrictions:
          "check_sasl_access inline:{ { alice = HOLD review first }, bob=DISCARD }",
      },
    });
    await t.login("alice", "alice-password");
    await t.envelope("alice@example.com", "x@remote.test", "y@remote.test");
    await t.send("DATA\r\n");
    t.expect(/^354 /);
    await t.send(".\r\n");
    t.expect(/^250 2\.0\.0 Ok: queued as QID1$/);
    expect(t.accepted[0]?.envelope.hold).toMatch(/review first/);
    expect(t.accepted[0]?.envelope.discard).toBeNull();
    expect(t.logs.filter((line) => line.includes(": hold: RCPT from"))).toHaveLength(1);
  });

  it("check_sasl_access DISCARD: the message is accepted (250) and handed over marked to be dropped", async () => {
    const t = await tlsTranscript({
      settings: { smtpd_recipient_restrictions: "check_sasl_access inline:{ { bob = DISCARD spam run } }" },
    });
    await t.login("bob", "bob-password");
    await t.envelope("bob@example.com", "x@remote.test");
    await t.send("DATA\r\n");
    await t.send(".\r\n");
    expect(t.drain()).toEqual([expect.stringMatching(/^354 /), "250 2.0.0 Ok: queued as QID1"]);
    expect(t.accepted[0]?.envelope.discard).toMatch(/spam run/);
    expect(t.logs.some((line) => line.startsWith(`NOQUEUE: discard: RCPT from ${PEER}: `))).toBe(true);
  });

  it("check_sasl_access REJECT names the login", async () => {
    const t = await tlsTranscript({
      settings: { smtpd_recipient_restrictions: "check_sasl_access inline:{ { alice = REJECT suspended } }" },
    });
    await t.login("alice", "alice-password");
    await t.send("MAIL FROM:<alice@example.com>\r\nRCPT TO:<x@remote.test>\r\n");
    expect(t.drain()).toEqual(["250 2.1.0 Ok", "554 5.7.1 <alice>: SASL login name rejected: suspended"]);
  });

  it("a policy port that throws defers (451 4.3.5), never permits", async () => {
    const t = await tlsTranscript({
      policy: {
        recipient: async () => {
          throw new Error("table down");
        },
      },
    });
    await t.send("MAIL FROM:<>\r\nRCPT TO:<x@remote.test>\r\n");
    expect(t.drain()).toEqual(["250 2.1.0 Ok", "451 4.3.5 Server configuration error"]);
    expect(t.logs).toContain("warn: warning: restriction lists failed: table down");
  });

  it("a restriction list that does not parse defers every recipient and says why", async () => {
    const t = await tlsTranscript({ settings: { smtpd_relay_restrictions: "permit_everyone" } });
    await t.send("MAIL FROM:<>\r\nRCPT TO:<x@remote.test>\r\n");
    expect(t.drain()).toEqual(["250 2.1.0 Ok", "451 4.3.5 Server configuration error"]);
    expect(t.logs.some((line) => line.startsWith("warn: error: ") && line.includes("permit_everyone"))).toBe(
      true,
    );
  });

  it("hands the policy the client, the login, the envelope and the HELO name", async () => {
    const requests: RecipientRequest[] = [];
    const t = await tlsTranscript({
      policy: {
        recipient: async (request) => {
          requests.push(request);
          return { decision: "permit", warnings: [] };
        },
      },
    });
    await t.login("alice", "alice-password");
    await t.envelope("alice@example.com", "x@remote.test");
    expect(requests).toEqual([
      {
        client: { address: "203.0.113.5", name: "client.example" },
        sasl: { username: "alice", method: "PLAIN" },
        sender: "alice@example.com",
        recipient: "x@remote.test",
        helo: "c.example",
      },
    ]);
  });
});
