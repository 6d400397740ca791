import { describe, expect, it } from "vitest";
import { HOST, type Transcript, tlsTranscript, transcript } from "./transcript.test-helper.ts";

const PEER = "client.example[203.0.113.5]";

/** Authenticated as alice inside TLS, with one recipient. */
async function ready(options: Parameters<typeof transcript>[0] = {}): Promise<Transcript> {
  const t = await tlsTranscript(options);
  await t.login("alice", "alice-password");
  await t.envelope("alice@example.com", "bob@remote.test");
  return t;
}

describe("DATA", () => {
  it("354, content, and 250 with the queue id once the message is accepted", async () => {
    const t = await ready();
    await t.send("DATA\r\n");
    t.expect("354 End data with <CR><LF>.<CR><LF>");
    await t.send("Subject: hi\r\n\r\n..dot\r\nbody\r\n.\r\n");
    t.expect("250 2.0.0 Ok: queued as QID1");
    const { envelope, message } = t.accepted[0]!;
    expect(message).toBe(
      [
        "Received: from c.example (client.example [203.0.113.5])",
        `\tby ${HOST} (Postern) with ESMTPSA id QID1`,
        "\tfor <bob@remote.test>; Tue, 01 Jul 2025 09:05:00 +0000",
        "Subject: hi",
        "",
        ".dot",
        "body",
        "",
      ].join("\r\n"),
    );
    expect(envelope).toMatchObject({
      queueId: "QID1",
      client: { address: "203.0.113.5", name: "client.example" },
      helo: "c.example",
      protocol: "ESMTPSA",
      tls: true,
      sasl: { username: "alice", method: "PLAIN" },
      sender: "alice@example.com",
      hold: null,
      discard: null,
    });
  });

  it("the transaction is over after the message: the next needs MAIL again", async () => {
    const t = await ready();
    await t.send("DATA\r\n");
    t.expect(/^354 /);
    await t.send(".\r\n");
    t.expect(/^250 /);
    await t.send("RCPT TO:<x@remote.test>\r\n");
    t.expect("503 5.5.1 Error: need MAIL command");
    await t.envelope("alice@example.com", "carol@remote.test");
    await t.send("DATA\r\n");
    t.expect(/^354 /);
    await t.send("second\r\n.\r\n");
    t.expect("250 2.0.0 Ok: queued as QID2");
    expect(t.accepted.map((a) => a.envelope.recipients.map((r) => r.address))).toEqual([
      ["bob@remote.test"],
      ["carol@remote.test"],
    ]);
  });

  it("smtpd_sasl_authenticated_header adds the login to Received:", async () => {
    const t = await ready({ smtpd: { smtpd_sasl_authenticated_header: "yes" } });
    await t.send("DATA\r\n");
    await t.send(".\r\n");
    t.drain();
    expect(t.accepted[0]?.message).toMatch(
      /^Received: from c\.example \(client\.example \[203\.0\.113\.5\]\)\r\n\t\(Authenticated sender: alice\)\r\n\tby /,
    );
  });

  it("without the header option the login stays out of the message", async () => {
    const t = await ready();
    await t.send("DATA\r\n");
    await t.send(".\r\n");
    t.drain();
    expect(t.accepted[0]?.message).not.toMatch(/alice/);
  });

  const refusals: { name: string; setup: (t: Transcript) => Promise<void>; command: string; want: string }[] =
    [
      {
        name: "no MAIL: need RCPT (Postfix)",
        setup: async () => {},
        command: "DATA",
        want: "503 5.5.1 Error: need RCPT command",
      },
      {
        name: "MAIL but no accepted recipient",
        setup: async (t) => {
          await t.send("MAIL FROM:<x@elsewhere.test>\r\nRCPT TO:<y@remote.test>\r\n");
          t.drain();
        },
        command: "DATA",
        want: "554 5.5.1 Error: no valid recipients",
      },
      {
        name: "an argument",
        setup: async (t) => {
          await t.envelope("alice@example.com", "bob@remote.test");
        },
        command: "DATA now",
        want: "501 5.5.4 Syntax: DATA",
      },
    ];
  for (const { name, setup, command, want } of refusals) {
    it(`refuses: ${name}`, async () => {
      const t = await tlsTranscript();
      await t.login("alice", "alice-password");
      await setup(t);
      await t.send(`${command}\r\n`);
      t.expect(want);
      t.expectNothing();
    });
  }

  it("message_size_limit: reads to the end, then 552 5.3.4 and no message", async () => {
    const t = await ready({ settings: { message_size_limit: "100" } });
    await t.send("DATA\r\n");
    t.expect(/^354 /);
    await t.send(`${"x".repeat(200)}\r\n`);
    t.expectNothing();
    await t.send(".\r\n");
    t.expect("552 5.3.4 Message size exceeds fixed limit");
    expect(t.accepted).toEqual([]);
    expect(t.logs).toContain(
      `QID1: reject: END-OF-MESSAGE from ${PEER}: 552 5.3.4 Message size exceeds fixed limit; from=<alice@example.com> to=<bob@remote.test> proto=ESMTP helo=<c.example>`,
    );
    // The session goes on.
    await t.send("NOOP\r\n");
    t.expect("250 2.0.0 Ok");
  });

  it("the accept port's refusal is the reply, and the message is not queued", async () => {
    const t = await ready({
      accept: async () => ({
        ok: false,
        reply: { code: 451, enhanced: "4.3.0", text: "Error: storage unavailable" },
      }),
    });
    await t.send("DATA\r\n");
    await t.send(".\r\n");
    expect(t.drain()).toEqual([expect.stringMatching(/^354 /), "451 4.3.0 Error: storage unavailable"]);
  });

  it("an accept port that throws is 451 4.3.0, never 250", async () => {
    const t = await ready({
      accept: async () => {
        throw new Error("R2 timeout");
      },
    });
    await t.send("DATA\r\n");
    await t.send(".\r\n");
    expect(t.drain()).toEqual([expect.stringMatching(/^354 /), "451 4.3.0 Error: queue file write error"]);
    expect(t.logs).toContain("warn: warning: QID1: accepting the message failed: R2 timeout");
  });

  it("250 only after accept() resolved", async () => {
    let release: () => void = () => {};
    const stored = new Promise<void>((resolve) => {
      release = resolve;
    });
    const t = await ready({
      accept: async (envelope) => {
        await stored;
        return { ok: true, queueId: envelope.queueId };
      },
    });
    await t.send("DATA\r\n");
    t.expect(/^354 /);
    let settled = false;
    const end = t.send(".\r\n").then(() => {
      settled = true;
    });
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(settled).toBe(false);
    release();
    await end;
    t.expect("250 2.0.0 Ok: queued as QID1");
  });

  it("a message with several recipients has no 'for' in Received:", async () => {
    const t = await tlsTranscript();
    await t.login("alice", "alice-password");
    await t.envelope("alice@example.com", "a@remote.test", "b@remote.test");
    await t.send("DATA\r\n");
    await t.send(".\r\n");
    t.drain();
    expect(t.accepted[0]?.message).toMatch(
      / with ESMTPSA id QID1;\r\n\tTue, 01 Jul 2025 09:05:00 \+0000\r\n$/,
    );
  });
});

describe("DATA and bare newlines", () => {
  it("reject (the default): a bare LF in content is 521 and the connection closes", async () => {
    const t = await ready();
    await t.send("DATA\r\n");
    t.expect(/^354 /);
    await t.send("line one\nline two\r\n.\r\n");
    t.expect("521 5.5.2 Error: bare <LF> received");
    t.expectClose();
    expect(t.accepted).toEqual([]);
    expect(t.session.closed).toBe(true);
    expect(t.logs).toContain(
      `QID1: reject: DATA from ${PEER}: 521 5.5.2 Error: bare <LF> received; from=<alice@example.com> to=<bob@remote.test> proto=ESMTP helo=<c.example>`,
    );
  });

  it("reject: a bare CR in content too", async () => {
    const t = await ready();
    await t.send("DATA\r\n");
    await t.send("x\ry\r\n.\r\n");
    expect(t.drain()).toEqual([expect.stringMatching(/^354 /), "521 5.5.2 Error: bare <CR> received"]);
  });

  it("normalize: bare LF lines are kept as CRLF lines, and LF . LF does not end the data", async () => {
    const t = await ready({ smtpd: { smtpd_forbid_bare_newline: "normalize" } });
    await t.send("DATA\r\n");
    t.expect(/^354 /);
    await t.send("a\nb\n.\nc\r\n.\r\n");
    t.expect("250 2.0.0 Ok: queued as QID1");
    expect(t.accepted[0]?.message).toMatch(/\r\na\r\nb\r\n\.\r\nc\r\n$/);
  });

  it("smtpd_forbid_bare_newline_exclusions: a trusted client keeps the old behaviour", async () => {
    const t = await ready({
      smtpd: { smtpd_forbid_bare_newline_exclusions: "203.0.113.0/24" },
    });
    await t.send("DATA\r\n");
    t.expect(/^354 /);
    await t.send("a\nb\n.\n");
    t.expect("250 2.0.0 Ok: queued as QID1");
    expect(t.accepted[0]?.message).toMatch(/\r\na\r\nb\r\n$/);
  });

  it("commands ending in a bare LF: accepted with normalize (as Postfix), refused with reject", async () => {
    const lenient = await transcript({ smtpd: { smtpd_forbid_bare_newline: "normalize" } });
    await lenient.send("EHLO c.example\n");
    lenient.expect(/^250-/);
    const strict = await transcript();
    await strict.send("EHLO c.example\n");
    strict.expect("550 5.5.2 Error: bare <LF> received");
    await strict.send("EHLO c.example\r\n");
    strict.expect(/^250-/);
  });

  it("smtpd_forbid_bare_newline_reject_code sets the code for command lines", async () => {
    const t = await transcript({ smtpd: { smtpd_forbid_bare_newline_reject_code: "450" } });
    await t.send("NOOP\n");
    t.expect("450 4.5.2 Error: bare <LF> received");
  });
});
