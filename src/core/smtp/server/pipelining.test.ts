// RFC 2920 pipelining and Postfix's smtpd_forbid_unauth_pipelining: a client may send a group of
// commands without waiting, but only after EHLO told it PIPELINING, and a group ends with EHLO,
// DATA, NOOP, VRFY, HELP (or QUIT); input already waiting at such a point, or before the
// greeting, was sent blind: 554 5.5.0 and close.
import { describe, expect, it } from "vitest";
import { HOST, tlsTranscript, transcript } from "./transcript.test-helper.ts";

const PEER = "client.example[203.0.113.5]";

describe("early talkers", () => {
  it("input before the greeting: 554 5.5.0 and close, no banner", async () => {
    const t = await transcript({ greet: false });
    await t.send("EHLO c.example\r\n");
    t.expect("554 5.5.0 Error: SMTP protocol synchronization");
    t.expectClose();
    expect(await t.session.greet()).toEqual([]);
    expect(t.logs).toContain(`improper command pipelining after CONNECT from ${PEER}: EHLO c.example`);
  });

  it("with smtpd_forbid_unauth_pipelining = no, early input waits for the greeting", async () => {
    const t = await transcript({ greet: false, smtpd: { smtpd_forbid_unauth_pipelining: "no" } });
    expect(await t.send("EHLO c.example\r\n")).toEqual([]);
    await t.greet();
    t.expect(`220 ${HOST} ESMTP Postern`);
    t.expect(/^250-mx\.postern\.test\r\n/);
  });

  it("greet() twice sends one banner", async () => {
    const t = await transcript();
    expect(await t.session.greet()).toEqual([]);
  });
});

describe("pipelining within the rules", () => {
  it("MAIL, RCPT, RCPT, DATA in one write get four replies in order", async () => {
    const t = await tlsTranscript();
    await t.login("alice", "alice-password");
    await t.send(
      "MAIL FROM:<alice@example.com>\r\nRCPT TO:<a@remote.test>\r\nRCPT TO:<b@remote.test>\r\nDATA\r\n",
    );
    expect(t.drain()).toEqual([
      "250 2.1.0 Ok",
      "250 2.1.5 Ok",
      "250 2.1.5 Ok",
      "354 End data with <CR><LF>.<CR><LF>",
    ]);
  });

  it("the message end may be followed by the next transaction and QUIT", async () => {
    const t = await tlsTranscript();
    await t.login("alice", "alice-password");
    await t.envelope("alice@example.com", "a@remote.test");
    await t.send("DATA\r\n");
    t.expect(/^354 /);
    await t.send("x\r\n.\r\nMAIL FROM:<alice@example.com>\r\nRCPT TO:<b@remote.test>\r\nQUIT\r\n");
    expect(t.drain()).toEqual([
      "250 2.0.0 Ok: queued as QID1",
      "250 2.1.0 Ok",
      "250 2.1.5 Ok",
      "221 2.0.0 Bye",
    ]);
  });

  it("AUTH with an initial response may be followed by MAIL", async () => {
    const t = await tlsTranscript();
    await t.send("AUTH PLAIN AGFsaWNlAGFsaWNlLXBhc3N3b3Jk\r\nMAIL FROM:<alice@example.com>\r\n");
    expect(t.drain()).toEqual(["235 2.7.0 Authentication successful", "250 2.1.0 Ok"]);
  });
});

describe("pipelining against the rules", () => {
  const cases: { name: string; before?: string; input: string; replies: string[]; after: string }[] = [
    {
      name: "EHLO with MAIL after it in the same write",
      input: "EHLO c.example\r\nMAIL FROM:<>\r\n",
      replies: [],
      after: "EHLO",
    },
    {
      name: "HELO (no PIPELINING announced) with MAIL after it",
      input: "HELO c.example\r\nMAIL FROM:<>\r\n",
      replies: [],
      after: "HELO",
    },
    {
      name: "after HELO, MAIL with RCPT after it",
      before: "HELO c.example\r\n",
      input: "MAIL FROM:<>\r\nRCPT TO:<a@postern.test>\r\n",
      replies: [],
      after: "MAIL",
    },
    {
      name: "DATA with the content already sent (before 354)",
      before: "EHLO c.example\r\n",
      input: "MAIL FROM:<>\r\nRCPT TO:<a@postern.test>\r\nDATA\r\nSubject: x\r\n\r\nhi\r\n.\r\n",
      replies: ["250 2.1.0 Ok", "250 2.1.5 Ok"],
      after: "DATA",
    },
    {
      name: "DATA refused but its content sent anyway (the content would run as commands)",
      before: "EHLO c.example\r\n",
      input: "MAIL FROM:<>\r\nRCPT TO:<a@remote.test>\r\nDATA\r\nRSET\r\nMAIL FROM:<x@y>\r\n",
      replies: ["250 2.1.0 Ok", "554 5.7.1 <a@remote.test>: Relay access denied"],
      after: "DATA",
    },
    {
      name: "NOOP in the middle of a group",
      before: "EHLO c.example\r\n",
      input: "NOOP\r\nMAIL FROM:<>\r\n",
      replies: [],
      after: "NOOP",
    },
  ];
  for (const { name, before, input, replies, after } of cases) {
    it(name, async () => {
      const t = await transcript();
      if (before) {
        await t.send(before);
        t.drain();
      }
      await t.send(input);
      expect(t.drain()).toEqual([...replies, "554 5.5.0 Error: SMTP protocol synchronization"]);
      expect(t.session.closed).toBe(true);
      expect(
        t.logs.some((line) => line.startsWith(`improper command pipelining after ${after} from ${PEER}: `)),
      ).toBe(true);
    });
  }

  it("does not log the credentials of a pipelined AUTH", async () => {
    const t = await transcript();
    await t.send("EHLO c.example\r\nAUTH PLAIN AGFsaWNlAGFsaWNlLXBhc3N3b3Jk\r\n");
    t.drain();
    expect(t.logs).toContain(`improper command pipelining after EHLO from ${PEER}: AUTH PLAIN ...`);
    expect(t.logs.join("\n")).not.toContain("AGFsaWNl");
  });

  it("the same input in separate writes is fine", async () => {
    const t = await transcript();
    for (const line of ["EHLO c.example", "MAIL FROM:<>", "RCPT TO:<a@postern.test>", "DATA", "hi\r\n."]) {
      await t.send(`${line}\r\n`);
    }
    expect(t.drain()).toEqual([
      expect.stringMatching(/^250-/),
      "250 2.1.0 Ok",
      "250 2.1.5 Ok",
      expect.stringMatching(/^354 /),
      "250 2.0.0 Ok: queued as QID1",
    ]);
  });

  it("smtpd_forbid_unauth_pipelining = no lets a blind client through", async () => {
    const t = await transcript({ smtpd: { smtpd_forbid_unauth_pipelining: "no" } });
    await t.send("EHLO c.example\r\nMAIL FROM:<>\r\nRCPT TO:<a@postern.test>\r\nDATA\r\nhi\r\n.\r\nQUIT\r\n");
    expect(t.drain()).toEqual([
      expect.stringMatching(/^250-/),
      "250 2.1.0 Ok",
      "250 2.1.5 Ok",
      expect.stringMatching(/^354 /),
      "250 2.0.0 Ok: queued as QID1",
      "221 2.0.0 Bye",
    ]);
  });
});
