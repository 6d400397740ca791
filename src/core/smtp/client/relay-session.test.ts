import { describe, expect, it } from "vitest";
import { openRelaySession } from "./open-relay-session.ts";
import type { RelayMessage } from "./relay-message.ts";
import type { RelayOptions } from "./relay-options.ts";
import type { RelaySession } from "./relay-session.ts";
import { type Answer, latin1, type Script, ScriptedServer } from "./scripted-server.test-helper.ts";

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
const LOCKSTEP_EHLO = ["SIZE 10240000", "8BITMIME", "ENHANCEDSTATUSCODES"];
const QUEUED = "250 2.0.0 Ok: queued as ABC";
const enc = (text: string) => new TextEncoder().encode(text);

async function start(script: Script = {}, options: Partial<RelayOptions> = {}) {
  const server = new ScriptedServer(script);
  const opened = await openRelaySession(server.connect, { ...BASE, ...options });
  if (!opened.ok) throw new Error(`session not opened: ${opened.outcome.reason}`);
  return { server, session: opened.session as RelaySession };
}

function message(overrides: Partial<RelayMessage> = {}): RelayMessage {
  const body = overrides.body ?? (async () => enc("Subject: hi\r\n\r\nhello\r\n"));
  return { mailFrom: "app@sender.test", recipients: ["a@rcpt.test"], size: 24, ...overrides, body };
}

function streamOf(chunks: string[]): ReadableStream<Uint8Array> {
  return new ReadableStream({
    start(controller) {
      for (const chunk of chunks) controller.enqueue(enc(chunk));
      controller.close();
    },
  });
}

const rcptAnswers =
  (table: Record<string, Answer>): Script["answer"] =>
  (line) => {
    const match = /^RCPT TO:<(.*)>/.exec(line);
    return match ? table[match[1]!] : undefined;
  };
const commandAnswers =
  (table: Record<string, string>): Script["answer"] =>
  (line) =>
    table[line.split(/[ :]/, 1)[0]!];

/** The server's command lines after the session was opened. */
const transcript = (server: ScriptedServer, from = 1) => server.lines.slice(from);

describe("RelaySession.send: command flow", () => {
  it("PIPELINING: MAIL, every RCPT and DATA go out in one write", async () => {
    const { server, session } = await start();
    const outcomes = await session.send(message({ recipients: ["a@rcpt.test", "b@rcpt.test"] }));
    expect(outcomes.map((o) => o.status)).toEqual(["sent", "sent"]);
    expect(server.clientLog[3]).toBe(
      "W:MAIL FROM:<app@sender.test> SIZE=24\r\nRCPT TO:<a@rcpt.test>\r\nRCPT TO:<b@rcpt.test>\r\nDATA\r\n",
    );
    expect(server.writes).toContain(
      "MAIL FROM:<app@sender.test> SIZE=24\r\nRCPT TO:<a@rcpt.test>\r\nRCPT TO:<b@rcpt.test>\r\nDATA\r\n",
    );
  });

  it("without PIPELINING: one command per write, lock-step", async () => {
    const { server, session } = await start({ ehlo: LOCKSTEP_EHLO });
    await session.send(message({ recipients: ["a@rcpt.test", "b@rcpt.test"] }));
    // Each command is written only after the previous reply was read.
    expect(server.clientLog.slice(3, 11)).toEqual([
      "W:MAIL FROM:<app@sender.test> SIZE=24\r\n",
      "R:250 2.1.0 Ok\r\n",
      "W:RCPT TO:<a@rcpt.test>\r\n",
      "R:250 2.1.5 Ok\r\n",
      "W:RCPT TO:<b@rcpt.test>\r\n",
      "R:250 2.1.5 Ok\r\n",
      "W:DATA\r\n",
      "R:354 End data with <CR><LF>.<CR><LF>\r\n",
    ]);
  });

  const params = [
    { name: "SIZE only when offered", ehlo: ["PIPELINING"], msg: {}, want: "MAIL FROM:<app@sender.test>" },
    {
      name: "BODY=8BITMIME when 8-bit and offered",
      ehlo: ["8BITMIME"],
      msg: { eightBit: true },
      want: "MAIL FROM:<app@sender.test> BODY=8BITMIME",
    },
    {
      name: "no BODY= when not offered",
      ehlo: [],
      msg: { eightBit: true },
      want: "MAIL FROM:<app@sender.test>",
    },
    {
      name: "SMTPUTF8 when asked and offered",
      ehlo: ["SMTPUTF8"],
      msg: { smtputf8: true },
      want: "MAIL FROM:<app@sender.test> SMTPUTF8",
    },
    {
      name: "a UTF-8 address implies SMTPUTF8",
      ehlo: ["SMTPUTF8", "SIZE 0"],
      msg: { recipients: ["j\u00f6rg@rcpt.test"] },
      want: "MAIL FROM:<app@sender.test> SIZE=24 SMTPUTF8",
    },
    { name: "the null sender", ehlo: [], msg: { mailFrom: "" }, want: "MAIL FROM:<>" },
  ];
  for (const { name, ehlo, msg, want } of params) {
    it(`MAIL FROM parameters: ${name}`, async () => {
      const { server, session } = await start({ ehlo });
      await session.send(message(msg));
      expect(server.lines[1]).toBe(want);
    });
  }

  it("sends a UTF-8 recipient as UTF-8", async () => {
    const { server, session } = await start({ ehlo: ["SMTPUTF8"] });
    await session.send(message({ recipients: ["j\u00f6rg@rcpt.test"] }));
    expect(server.lines[2]).toBe(latin1(enc("RCPT TO:<j\u00f6rg@rcpt.test>")));
  });

  it("two messages on one session, with RSET between them", async () => {
    for (const ehlo of [LOCKSTEP_EHLO, ["PIPELINING"]]) {
      const { server, session } = await start({ ehlo });
      const first = await session.send(message({ recipients: ["a@rcpt.test"] }));
      const second = await session.send(message({ recipients: ["b@rcpt.test"] }));
      expect([...first, ...second].map((o) => o.status)).toEqual(["sent", "sent"]);
      expect(transcript(server)).toEqual([
        "MAIL FROM:<app@sender.test>" + (ehlo === LOCKSTEP_EHLO ? " SIZE=24" : ""),
        "RCPT TO:<a@rcpt.test>",
        "DATA",
        "RSET",
        "MAIL FROM:<app@sender.test>" + (ehlo === LOCKSTEP_EHLO ? " SIZE=24" : ""),
        "RCPT TO:<b@rcpt.test>",
        "DATA",
      ]);
      expect(server.messages).toHaveLength(2);
      if (ehlo !== LOCKSTEP_EHLO)
        expect(server.writes.some((w) => w.startsWith("RSET\r\nMAIL FROM:"))).toBe(true);
    }
  });

  it("close() sends QUIT and closes; the session is then not alive", async () => {
    const { server, session } = await start();
    await session.send(message());
    expect(session.alive).toBe(true);
    await session.close();
    await server.done;
    expect(server.lines.at(-1)).toBe("QUIT");
    expect(session.alive).toBe(false);
  });

  it("no recipients: nothing is sent", async () => {
    const { server, session } = await start();
    expect(await session.send(message({ recipients: [] }))).toEqual([]);
    expect(transcript(server)).toEqual([]);
  });
});

describe("RelaySession.send: outcomes", () => {
  const mixed = {
    "ok@rcpt.test": "250 2.1.5 Ok",
    "grey@rcpt.test": "450 4.2.0 <grey@rcpt.test>: Recipient address rejected: Greylisted",
    "nobody@rcpt.test": "550 5.1.1 <nobody@rcpt.test>: Recipient address rejected: User unknown",
  };
  for (const ehlo of [["PIPELINING"], LOCKSTEP_EHLO]) {
    it(`per-recipient 250/450/550 (${ehlo[0]})`, async () => {
      const { session } = await start({ ehlo, answer: rcptAnswers(mixed) });
      const outcomes = await session.send(message({ recipients: Object.keys(mixed) }));
      expect(outcomes).toEqual([
        { recipient: "ok@rcpt.test", status: "sent", reply: QUEUED, dsn: "2.0.0" },
        {
          recipient: "grey@rcpt.test",
          status: "deferred",
          reply: `host ${PEER} said: ${mixed["grey@rcpt.test"]} (in reply to RCPT TO command)`,
          dsn: "4.2.0",
        },
        {
          recipient: "nobody@rcpt.test",
          status: "bounced",
          reply: `host ${PEER} said: ${mixed["nobody@rcpt.test"]} (in reply to RCPT TO command)`,
          dsn: "5.1.1",
        },
      ]);
    });
  }

  it("lock-step: no recipient accepted -> RSET and no DATA", async () => {
    const { server, session } = await start({
      ehlo: LOCKSTEP_EHLO,
      answer: rcptAnswers({ "x@rcpt.test": "550 5.1.1 no" }),
    });
    const outcomes = await session.send(message({ recipients: ["x@rcpt.test"] }));
    expect(outcomes[0]?.status).toBe("bounced");
    expect(transcript(server)).toEqual([
      "MAIL FROM:<app@sender.test> SIZE=24",
      "RCPT TO:<x@rcpt.test>",
      "RSET",
    ]);
    // Already reset: the next message starts with MAIL.
    await session.send(message({ recipients: ["a@rcpt.test"] }));
    expect(transcript(server, 4)[0]).toBe("MAIL FROM:<app@sender.test> SIZE=24");
  });

  it("pipelined: no recipient accepted -> the DATA 554 is read, then RSET, no body", async () => {
    const { server, session } = await start({
      answer: (line) =>
        line.startsWith("RCPT")
          ? "550 5.1.1 no"
          : line === "DATA"
            ? "554 5.5.1 Error: no valid recipients"
            : undefined,
    });
    const outcomes = await session.send(message({ recipients: ["x@rcpt.test", "y@rcpt.test"] }));
    expect(outcomes.map((o) => o.status)).toEqual(["bounced", "bounced"]);
    expect(transcript(server)).toEqual([
      "MAIL FROM:<app@sender.test> SIZE=24",
      "RCPT TO:<x@rcpt.test>",
      "RCPT TO:<y@rcpt.test>",
      "DATA",
      "RSET",
    ]);
    expect(server.messages).toEqual([]);
    expect(session.alive).toBe(true);
  });

  it("pipelined: a 354 despite no valid recipient gets an empty end of data, then RSET", async () => {
    const { server, session } = await start({ answer: rcptAnswers({ "x@rcpt.test": "550 5.1.1 no" }) });
    const outcomes = await session.send(message({ recipients: ["x@rcpt.test"] }));
    expect(outcomes[0]?.status).toBe("bounced");
    expect(server.messages).toEqual([new Uint8Array(0)]);
    expect(server.lines.at(-1)).toBe("RSET");
  });

  const mailRefusals = [
    {
      reply: "553 5.7.1 <app@sender.test>: Sender address rejected: not owned by user",
      status: "bounced",
      dsn: "5.7.1",
    },
    { reply: "451 4.3.0 Error: queue file write error", status: "deferred", dsn: "4.3.0" },
  ];
  for (const { reply, status, dsn } of mailRefusals) {
    it(`MAIL FROM ${reply.slice(0, 3)} applies to every recipient`, async () => {
      const { server, session } = await start({
        ehlo: LOCKSTEP_EHLO,
        answer: commandAnswers({ MAIL: reply }),
      });
      const outcomes = await session.send(message({ recipients: ["a@rcpt.test", "b@rcpt.test"] }));
      const want = { status, reply: `host ${PEER} said: ${reply} (in reply to MAIL FROM command)`, dsn };
      expect(outcomes).toEqual([
        { recipient: "a@rcpt.test", ...want },
        { recipient: "b@rcpt.test", ...want },
      ]);
      expect(server.lines.some((l) => l.startsWith("RCPT"))).toBe(false);
    });
  }

  it("pipelined MAIL FROM refusal: the RCPT answers (503) do not count", async () => {
    const { session } = await start({
      answer: (l) =>
        l.startsWith("MAIL")
          ? "553 5.7.1 no"
          : l.startsWith("RCPT") || l === "DATA"
            ? "503 5.5.1 Error: need MAIL command"
            : undefined,
    });
    const outcomes = await session.send(message({ recipients: ["a@rcpt.test"] }));
    expect(outcomes[0]).toMatchObject({
      status: "bounced",
      reply: `host ${PEER} said: 553 5.7.1 no (in reply to MAIL FROM command)`,
    });
    expect(session.alive).toBe(true);
  });

  it("DATA refused after accepted recipients", async () => {
    const { session } = await start({
      ehlo: LOCKSTEP_EHLO,
      answer: commandAnswers({ DATA: "554 5.7.1 no thanks" }),
    });
    const outcomes = await session.send(message());
    expect(outcomes[0]).toMatchObject({
      status: "bounced",
      reply: `host ${PEER} said: 554 5.7.1 no thanks (in reply to DATA command)`,
    });
  });

  const finals = [
    { reply: "552 5.3.4 Message size exceeds fixed limit", status: "bounced" },
    { reply: "451 4.3.0 Error: queue file write error", status: "deferred" },
  ];
  for (const { reply, status } of finals) {
    it(`end of DATA ${reply.slice(0, 3)} applies to the accepted recipients`, async () => {
      const { session } = await start({
        answer: rcptAnswers({ "no@rcpt.test": "550 5.1.1 unknown" }),
        onData: () => reply,
      });
      const outcomes = await session.send(message({ recipients: ["a@rcpt.test", "no@rcpt.test"] }));
      expect(outcomes.map((o) => [o.status, o.reply])).toEqual([
        [status, `host ${PEER} said: ${reply} (in reply to end of DATA command)`],
        ["bounced", `host ${PEER} said: 550 5.1.1 unknown (in reply to RCPT TO command)`],
      ]);
    });
  }

  it("SIZE limit exceeded: bounced before MAIL FROM", async () => {
    const { server, session } = await start({ ehlo: ["SIZE 1000"] });
    const outcomes = await session.send(message({ size: 2000, recipients: ["a@rcpt.test", "b@rcpt.test"] }));
    const want = {
      status: "bounced",
      reply: `message size 2000 exceeds size limit 1000 of server ${PEER}`,
      dsn: "5.3.4",
    };
    expect(outcomes).toEqual([
      { recipient: "a@rcpt.test", ...want },
      { recipient: "b@rcpt.test", ...want },
    ]);
    expect(transcript(server)).toEqual([]);
    expect(session.alive).toBe(true);
  });

  it("SMTPUTF8 required but not offered: bounced", async () => {
    const { server, session } = await start({ ehlo: ["PIPELINING", "8BITMIME"] });
    for (const msg of [{ smtputf8: true }, { mailFrom: "\u00fc@sender.test" }]) {
      const outcomes = await session.send(message(msg));
      expect(outcomes[0]).toEqual({
        recipient: "a@rcpt.test",
        status: "bounced",
        reply: `SMTPUTF8 is required, but was not offered by host ${PEER}`,
        dsn: "5.6.7",
      });
    }
    expect(transcript(server)).toEqual([]);
  });

  it("a recipient with CR/LF is bounced locally and never reaches the wire", async () => {
    const { server, session } = await start();
    const outcomes = await session.send(
      message({ recipients: ["evil@rcpt.test>\r\nRCPT TO:<x@y.test", "a@rcpt.test"] }),
    );
    expect(outcomes.map((o) => o.status)).toEqual(["bounced", "sent"]);
    expect(outcomes[0]?.dsn).toBe("5.1.3");
    expect(server.lines.filter((l) => l.startsWith("RCPT"))).toEqual(["RCPT TO:<a@rcpt.test>"]);
  });

  it("a sender with CR/LF bounces the message without a round trip", async () => {
    const { server, session } = await start();
    const outcomes = await session.send(message({ mailFrom: "a@b.test>\r\nRSET" }));
    expect(outcomes[0]).toMatchObject({ status: "bounced", dsn: "5.1.7" });
    expect(transcript(server)).toEqual([]);
  });

  it("421 during RCPT: every pending recipient deferred, session dead", async () => {
    const { session } = await start({
      ehlo: LOCKSTEP_EHLO,
      answer: rcptAnswers({ "b@rcpt.test": "421 4.3.2 Service shutting down" }),
    });
    const outcomes = await session.send(
      message({ recipients: ["a@rcpt.test", "b@rcpt.test", "c@rcpt.test"] }),
    );
    const reply = `host ${PEER} said: 421 4.3.2 Service shutting down (in reply to RCPT TO command)`;
    expect(outcomes.map((o) => [o.status, o.reply])).toEqual([
      ["deferred", reply],
      ["deferred", reply],
      ["deferred", reply],
    ]);
    expect(session.alive).toBe(false);
  });
});

describe("RelaySession.send: DATA", () => {
  it("dot-stuffs across chunk boundaries, byte for byte as the server sees it", async () => {
    const { server, session } = await start();
    const body = streamOf([".start\r\nline\r", "\n.", "middle\r\n", ".\r", "\nend"]);
    await session.send(message({ body: async () => body }));
    expect(server.messages.map(latin1)).toEqual(["..start\r\nline\r\n..middle\r\n..\r\nend\r\n"]);
    // The end-of-data dot rides with the last chunk of the body.
    expect(server.writes.at(-1)).toBe("..start\r\nline\r\n..middle\r\n..\r\nend\r\n.\r\n");
  });

  it("an empty body is just the end of data", async () => {
    const { server, session } = await start();
    const outcomes = await session.send(message({ body: async () => new Uint8Array(0) }));
    expect(outcomes[0]?.status).toBe("sent");
    expect(server.messages).toEqual([new Uint8Array(0)]);
  });

  it("streams a large body in 64 KB writes", async () => {
    const { server, session } = await start();
    const line = "x".repeat(998);
    const body = enc(`${line}\r\n`.repeat(300)); // 300,000 bytes
    await session.send(message({ body: async () => body }));
    expect(server.messages[0]).toEqual(body);
    const dataWrites = server.writes.slice(
      server.writes.indexOf("MAIL FROM:<app@sender.test> SIZE=24\r\nRCPT TO:<a@rcpt.test>\r\nDATA\r\n") + 1,
    );
    expect(dataWrites.map((w) => w.length)).toEqual([65536, 65536, 65536, 65536, 37856 + 3]);
  });

  it("connection dropped mid-DATA: deferred, the session is dead and defers at once afterwards", async () => {
    let cancelled = false;
    let dropped: () => void = () => {};
    const serverDropped = new Promise<void>((resolve) => {
      dropped = resolve;
    });
    const { server, session } = await start({
      onDataChunk: () => {
        dropped();
        return "close";
      },
    });
    let pulls = 0;
    const body = new ReadableStream<Uint8Array>({
      async pull(controller) {
        if (pulls++ > 0) await serverDropped;
        controller.enqueue(new Uint8Array(200_000).fill(0x61));
      },
      cancel() {
        cancelled = true;
      },
    });
    const reason = `lost connection with ${PEER} while sending message body`;
    const outcomes = await session.send(
      message({ recipients: ["a@rcpt.test", "b@rcpt.test"], body: async () => body }),
    );
    expect(outcomes).toEqual([
      { recipient: "a@rcpt.test", status: "deferred", reply: reason, dsn: "4.4.2" },
      { recipient: "b@rcpt.test", status: "deferred", reply: reason, dsn: "4.4.2" },
    ]);
    expect(cancelled).toBe(true);
    expect(session.alive).toBe(false);

    const linesBefore = server.lines.length;
    const again = await session.send(message({ recipients: ["c@rcpt.test"] }));
    expect(again).toEqual([{ recipient: "c@rcpt.test", status: "deferred", reply: reason, dsn: "4.4.2" }]);
    expect(server.lines.length).toBe(linesBefore);
    expect(server.connects).toHaveLength(1);
  });

  it("connection dropped after the dot: the message may have been delivered", async () => {
    const { session } = await start({ onData: () => ({ after: "close" }) });
    const outcomes = await session.send(message());
    expect(outcomes[0]).toMatchObject({
      status: "deferred",
      reply: `lost connection with ${PEER} while sending end of data -- message may be sent more than once`,
    });
  });

  it("an unreadable body: deferred, no end of data sent, session given up", async () => {
    const { server, session } = await start();
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(enc("partial\r\n"));
        controller.error(new Error("R2 object vanished"));
      },
    });
    const outcomes = await session.send(message({ body: async () => body }));
    expect(outcomes[0]).toMatchObject({
      status: "deferred",
      reply: "error reading message body: R2 object vanished",
    });
    expect(server.messages).toEqual([]);
    expect(session.alive).toBe(false);
  });

  it("body() rejecting is a local error too", async () => {
    const { session } = await start();
    const outcomes = await session.send(message({ body: () => Promise.reject(new Error("no such key")) }));
    expect(outcomes[0]).toMatchObject({
      status: "deferred",
      reply: "error reading message body: no such key",
    });
  });
});

describe("RelaySession.send: timeouts", () => {
  it("a silent RCPT reply times out: all pending recipients deferred, session dead", async () => {
    const { session } = await start({
      ehlo: LOCKSTEP_EHLO,
      answer: rcptAnswers({ "b@rcpt.test": { after: "hang" } }),
    });
    const reason = `conversation with ${PEER} timed out while sending RCPT TO`;
    const outcomes = await session.send(message({ recipients: ["a@rcpt.test", "b@rcpt.test"] }));
    expect(outcomes.map((o) => [o.status, o.reply])).toEqual([
      ["deferred", reason],
      ["deferred", reason],
    ]);
    expect(session.alive).toBe(false);
  });

  it("a silent end-of-data reply times out with Postfix's warning", async () => {
    const { session } = await start({ onData: () => ({ after: "hang" }) }, { timeouts: { data: 100 } });
    const outcomes = await session.send(message());
    expect(outcomes[0]?.reply).toBe(
      `conversation with ${PEER} timed out while sending end of data -- message may be sent more than once`,
    );
  });
});
