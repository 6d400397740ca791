import { describe, expect, it } from "vitest";
import type { Envelope } from "./session-ports.ts";
import { type Transcript, tlsTranscript, transcript } from "./transcript.test-helper.ts";

/** Sends a whole message after MAIL FROM `argument` and returns its envelope. */
async function deliver(t: Transcript, argument: string): Promise<Envelope> {
  await t.send(`MAIL FROM:${argument}\r\n`);
  t.expect("250 2.1.0 Ok");
  await t.send("RCPT TO:<bob@remote.test>\r\n");
  t.expect("250 2.1.5 Ok");
  await t.send("DATA\r\n");
  t.expect(/^354 /);
  await t.send("Subject: x\r\n\r\nx\r\n.\r\n");
  t.expect(/^250 2\.0\.0 Ok: queued as /);
  return t.accepted.at(-1)!.envelope;
}

describe("MAIL FROM", () => {
  const cases: { name: string; argument: string; want: string }[] = [
    { name: "a plain path", argument: "FROM:<alice@example.com>", want: "250 2.1.0 Ok" },
    { name: "the null sender", argument: "FROM:<>", want: "250 2.1.0 Ok" },
    { name: "a space after the colon", argument: "FROM: <alice@example.com>", want: "250 2.1.0 Ok" },
    { name: "no brackets (old devices)", argument: "FROM:alice@example.com", want: "250 2.1.0 Ok" },
    { name: "the keyword in lower case", argument: "from:<alice@example.com>", want: "250 2.1.0 Ok" },
    {
      name: "SIZE under the limit",
      argument: "FROM:<alice@example.com> SIZE=10240000",
      want: "250 2.1.0 Ok",
    },
    {
      name: "SIZE over the limit (RFC 1870 §6.1)",
      argument: "FROM:<alice@example.com> SIZE=10240001",
      want: "552 5.3.4 Message size exceeds fixed limit",
    },
    {
      name: "SIZE not a number",
      argument: "FROM:<a@example.com> SIZE=ten",
      want: "501 5.5.4 Bad SIZE parameter syntax",
    },
    {
      name: "SIZE without a value",
      argument: "FROM:<a@example.com> SIZE",
      want: "501 5.5.4 Bad SIZE parameter syntax",
    },
    { name: "BODY=8BITMIME", argument: "FROM:<a@example.com> BODY=8bitmime", want: "250 2.1.0 Ok" },
    {
      name: "BODY=BINARYMIME is not offered",
      argument: "FROM:<a@example.com> BODY=BINARYMIME",
      want: "501 5.5.4 Bad BODY parameter syntax",
    },
    {
      name: "SMTPUTF8 takes no value",
      argument: "FROM:<a@example.com> SMTPUTF8=yes",
      want: "555 5.5.4 Unsupported option: SMTPUTF8=yes",
    },
    { name: "RET=HDRS", argument: "FROM:<a@example.com> RET=HDRS", want: "250 2.1.0 Ok" },
    { name: "RET=ALL", argument: "FROM:<a@example.com> RET=ALL", want: "501 5.5.4 Bad RET parameter syntax" },
    { name: "ENVID as xtext", argument: "FROM:<a@example.com> ENVID=QQ+2B1", want: "250 2.1.0 Ok" },
    {
      name: "ENVID that is not xtext",
      argument: "FROM:<a@example.com> ENVID=a+b",
      want: "501 5.5.4 Bad ENVID parameter syntax",
    },
    {
      name: "ENVID longer than 100 characters",
      argument: `FROM:<a@example.com> ENVID=${"x".repeat(101)}`,
      want: "501 5.5.4 Bad ENVID parameter syntax",
    },
    { name: "AUTH=<>", argument: "FROM:<a@example.com> AUTH=<>", want: "250 2.1.0 Ok" },
    {
      name: "AUTH= that is not xtext",
      argument: "FROM:<a@example.com> AUTH=a+zz",
      want: "501 5.5.4 Bad AUTH parameter syntax",
    },
    {
      name: "AUTH= twice",
      argument: "FROM:<a@example.com> AUTH=<> AUTH=<>",
      want: "503 5.5.4 Error: multiple AUTH= options",
    },
    {
      name: "a parameter twice",
      argument: "FROM:<a@example.com> BODY=7BIT BODY=7BIT",
      want: "501 5.5.4 Duplicate BODY parameter",
    },
    {
      name: "an unknown parameter",
      argument: "FROM:<a@example.com> XVERP",
      want: "555 5.5.4 Unsupported option: XVERP",
    },
    {
      name: "a malformed parameter",
      argument: "FROM:<a@example.com> =x",
      want: "555 5.5.4 Unsupported option: =x",
    },
    {
      name: "a parameter that must not be echoed raw",
      argument: "FROM:<a@example.com> X=\u00e9\u0007",
      want: "555 5.5.4 Unsupported option: X=??",
    },
    { name: "no colon", argument: "<alice@example.com>", want: "501 5.5.4 Syntax: MAIL FROM:<address>" },
    { name: "an empty argument", argument: "", want: "501 5.5.4 Syntax: MAIL FROM:<address>" },
    {
      name: "an unclosed path",
      argument: "FROM:<alice@example.com",
      want: "501 5.1.7 Bad sender address syntax",
    },
    { name: "no domain", argument: "FROM:<alice>", want: "501 5.1.7 Bad sender address syntax" },
    {
      name: "a bad domain",
      argument: "FROM:<alice@-example.com>",
      want: "501 5.1.7 Bad sender address syntax",
    },
    {
      name: "a local part over 64 octets",
      argument: `FROM:<${"a".repeat(65)}@example.com>`,
      want: "501 5.1.7 Bad sender address syntax",
    },
    {
      name: "a UTF-8 sender without SMTPUTF8 (RFC 6531 §3.4)",
      argument: "FROM:<jos\u00e9@example.com>",
      want: "553 5.6.7 Must declare SMTPUTF8 to send unicode address",
    },
    {
      name: "a UTF-8 sender with SMTPUTF8",
      argument: "FROM:<jos\u00e9@example.com> SMTPUTF8",
      want: "250 2.1.0 Ok",
    },
  ];
  for (const { name, argument, want } of cases) {
    it(name, async () => {
      const t = await transcript();
      await t.ehlo();
      await t.send(`MAIL ${argument}\r\n`);
      t.expect(want);
    });
  }

  it("does not echo a parameter with control characters", async () => {
    const t = await transcript();
    await t.ehlo();
    await t.send("MAIL FROM:<a@example.com> X-Y=\u00e9\r\n");
    t.expect("555 5.5.4 Unsupported option: X-Y=?");
  });

  it("refuses a nested MAIL", async () => {
    const t = await transcript();
    await t.ehlo();
    await t.send("MAIL FROM:<>\r\n");
    t.expect("250 2.1.0 Ok");
    await t.send("MAIL FROM:<>\r\n");
    t.expect("503 5.5.1 Error: nested MAIL command");
  });

  it("needs HELO/EHLO first (smtpd_helo_required = yes), unless configured otherwise", async () => {
    const strict = await transcript();
    await strict.send("MAIL FROM:<>\r\n");
    strict.expect("503 5.5.1 Error: send HELO/EHLO first");
    const lax = await transcript({ smtpd: { smtpd_helo_required: "no" } });
    await lax.send("MAIL FROM:<>\r\n");
    lax.expect("250 2.1.0 Ok");
  });

  it("AUTH= is unknown where AUTH is not offered", async () => {
    const t = await transcript({ smtpd: { smtpd_sasl_auth_enable: "no" } });
    await t.ehlo();
    await t.send("MAIL FROM:<a@example.com> AUTH=<>\r\n");
    t.expect("555 5.5.4 Unsupported option: AUTH=<>");
  });

  it("carries the parameters into the envelope", async () => {
    const t = await tlsTranscript();
    await t.login("alice", "alice-password");
    const envelope = await deliver(
      t,
      "<alice@example.com> BODY=8BITMIME SMTPUTF8 RET=hdrs ENVID=id+2B1 AUTH=alice+40example.com SIZE=100",
    );
    expect(envelope).toMatchObject({
      sender: "alice@example.com",
      body: "8BITMIME",
      smtputf8: true,
      ret: "HDRS",
      envid: "id+1",
      auth: "alice@example.com",
    });
  });

  it("ignores AUTH= from a client that did not authenticate (RFC 4954 §5)", async () => {
    const t = await tlsTranscript({ settings: { mynetworks: "203.0.113.0/24" } });
    const envelope = await deliver(t, "<> AUTH=alice+40example.com");
    expect(envelope.auth).toBeNull();
    expect(envelope.sender).toBe("");
  });

  it("defaults: no parameters", async () => {
    const t = await tlsTranscript();
    await t.login("alice", "alice-password");
    const envelope = await deliver(t, "<alice@example.com>");
    expect(envelope).toMatchObject({ body: null, smtputf8: false, ret: null, envid: null, auth: null });
  });
});
