import { describe, expect, it } from "vitest";
import { transcript } from "./transcript.test-helper.ts";

describe("commands without a stage", () => {
  const cases: { name: string; input: string; want: string }[] = [
    { name: "NOOP", input: "NOOP\r\n", want: "250 2.0.0 Ok" },
    { name: "NOOP with an argument (RFC 5321 §4.1.1.9)", input: "NOOP hello\r\n", want: "250 2.0.0 Ok" },
    { name: "RSET", input: "RSET\r\n", want: "250 2.0.0 Ok" },
    { name: "RSET with an argument", input: "RSET now\r\n", want: "501 5.5.4 Syntax: RSET" },
    { name: "VRFY is disabled", input: "VRFY postmaster\r\n", want: "502 5.5.1 VRFY command is disabled" },
    {
      name: "HELP",
      input: "HELP\r\n",
      want: "214 2.0.0 Commands: EHLO HELO STARTTLS AUTH MAIL RCPT DATA BDAT RSET NOOP QUIT",
    },
    { name: "a verb in lower case", input: "noop\r\n", want: "250 2.0.0 Ok" },
    {
      name: "EXPN is not implemented",
      input: "EXPN staff\r\n",
      want: "502 5.5.2 Error: command not recognized",
    },
    {
      name: "ETRN is not implemented",
      input: "ETRN example.com\r\n",
      want: "502 5.5.2 Error: command not recognized",
    },
    { name: "an unknown verb", input: "FOO bar\r\n", want: "502 5.5.2 Error: command not recognized" },
    { name: "an empty line", input: "\r\n", want: "500 5.5.2 Error: bad syntax" },
    { name: "a line of blanks", input: "   \r\n", want: "500 5.5.2 Error: bad syntax" },
    { name: "bytes that are not UTF-8", input: "NOOP \xff\r\n", want: "500 5.5.2 Error: bad UTF-8 syntax" },
    {
      name: "a line over 512 octets",
      input: `NOOP ${"x".repeat(506)}\r\n`,
      want: "500 5.5.2 Error: line too long",
    },
    { name: "a line of exactly 512 octets", input: `NOOP ${"x".repeat(505)}\r\n`, want: "250 2.0.0 Ok" },
    {
      name: "a verb that is a prototype property",
      input: "__proto__\r\n",
      want: "502 5.5.2 Error: command not recognized",
    },
  ];
  for (const { name, input, want } of cases) {
    it(name, async () => {
      const t = await transcript();
      await t.ehlo();
      const bytes = Uint8Array.from(input, (c) => c.charCodeAt(0));
      await t.send(bytes);
      t.expect(want);
      t.expectNothing();
    });
  }

  it("RSET ends the transaction", async () => {
    const t = await transcript();
    await t.ehlo();
    await t.send("MAIL FROM:<>\r\n");
    t.expect("250 2.1.0 Ok");
    await t.send("RSET\r\n");
    t.expect("250 2.0.0 Ok");
    await t.send("RCPT TO:<a@remote.test>\r\n");
    t.expect("503 5.5.1 Error: need MAIL command");
  });

  it("QUIT: 221 and close; later input is ignored", async () => {
    const t = await transcript();
    await t.ehlo();
    await t.send("QUIT\r\n");
    t.expect("221 2.0.0 Bye");
    t.expectClose();
    expect(await t.send("NOOP\r\n")).toEqual([]);
    expect(t.logs.at(-1)).toBe("disconnect from client.example[203.0.113.5] ehlo=1 quit=1 commands=2");
  });

  it("QUIT with pipelined input after it still just closes", async () => {
    const t = await transcript();
    await t.ehlo();
    await t.send("QUIT\r\nNOOP\r\n");
    t.expect("221 2.0.0 Bye");
    t.expectClose();
    t.expectNothing();
  });

  it("HTTP sent to the SMTP port: Postfix's answer and the end", async () => {
    const t = await transcript();
    await t.send("POST / HTTP/1.1\r\nHost: mx\r\n\r\nMAIL FROM:<x@y>\r\n");
    t.expect("221 2.7.0 Error: I can break rules, too. Goodbye.");
    t.expectClose();
    t.expectNothing();
    expect(t.logs).toContain(
      "warn: warning: non-SMTP command from client.example[203.0.113.5]: POST / HTTP/1.1",
    );
  });

  it("a line too long is skipped whole: its tail is not read as a command", async () => {
    const t = await transcript();
    await t.ehlo();
    await t.send(`NOOP ${"x".repeat(3000)}`);
    t.expectNothing();
    await t.send(" QUIT\r\nNOOP\r\n");
    expect(t.drain()).toEqual(["500 5.5.2 Error: line too long", "250 2.0.0 Ok"]);
  });

  it("MAIL and RCPT lines may be longer, for their parameters (up to 2048 octets)", async () => {
    const t = await transcript();
    await t.ehlo();
    const envid = "x".repeat(100);
    const auth = `${"a".repeat(60)}@${"b".repeat(180)}.test`;
    await t.send(`MAIL FROM:<> SIZE=100 BODY=8BITMIME RET=HDRS ENVID=${envid} AUTH=${auth}\r\n`);
    t.expect("250 2.1.0 Ok");
    await t.send(`RSET\r\nMAIL FROM:<> ENVID=${"y".repeat(2100)}\r\n`);
    expect(t.drain()).toEqual(["250 2.0.0 Ok", "500 5.5.2 Error: line too long"]);
  });
});

describe("the session's log lines", () => {
  it("connect, then a disconnect line with Postfix's per-command counts", async () => {
    const t = await transcript({ tls: {} });
    await t.ehlo();
    await t.send("AUTH PLAIN AGFsaWNlAHdyb25n\r\n");
    t.expect(/^535 /);
    await t.login("alice", "alice-password");
    await t.envelope("alice@example.com", "bob@remote.test");
    await t.send("RCPT TO:<nobody>\r\n");
    t.expect(/^501 /);
    await t.send("DATA\r\n");
    await t.send("x\r\n.\r\n");
    await t.send("FOO\r\nQUIT\r\n");
    t.drain();
    expect(t.logs[0]).toBe("connect from client.example[203.0.113.5]");
    expect(t.logs.at(-1)).toBe(
      "disconnect from client.example[203.0.113.5] ehlo=1 auth=1/2 mail=1 rcpt=1/2 data=1 quit=1 unknown=0/1 commands=6/9",
    );
  });

  it("a client that vanishes mid-DATA: lost connection, data not counted as done", async () => {
    const t = await transcript({ tls: {} });
    await t.ehlo();
    await t.login("alice", "alice-password");
    await t.envelope("alice@example.com", "bob@remote.test");
    await t.send("DATA\r\n");
    await t.send("half a mess");
    await t.session.end();
    expect(t.logs.slice(-2)).toEqual([
      "lost connection after DATA from client.example[203.0.113.5]",
      "disconnect from client.example[203.0.113.5] ehlo=1 auth=1 mail=1 rcpt=1 data=0/1 commands=4/5",
    ]);
    expect(t.accepted).toEqual([]);
    expect(await t.send(".\r\n")).toEqual([]);
  });

  it("timeout(): 421 4.4.2 and close", async () => {
    const t = await transcript();
    await t.ehlo();
    expect(t.session.timeout()).toEqual([
      { kind: "reply", text: "421 4.4.2 mx.postern.test Error: timeout exceeded\r\n" },
      { kind: "close" },
    ]);
    expect(t.logs).toContain("timeout after EHLO from client.example[203.0.113.5]");
    expect(t.session.timeout()).toEqual([]);
  });

  it("end() after the session closed logs nothing more", async () => {
    const t = await transcript();
    await t.send("QUIT\r\n");
    const count = t.logs.length;
    await t.session.end();
    expect(t.logs.length).toBe(count);
  });
});
