import { describe, expect, it } from "vitest";
import { type Transcript, tlsTranscript } from "./transcript.test-helper.ts";

async function ready(options: Parameters<typeof tlsTranscript>[0] = {}): Promise<Transcript> {
  const t = await tlsTranscript(options);
  await t.login("alice", "alice-password");
  await t.envelope("alice@example.com", "bob@remote.test");
  return t;
}

const bodyOf = (t: Transcript, i = 0) =>
  t.accepted[i]?.message.replace(/^Received:(?:.*\r\n)(?:\t.*\r\n)*/, "");

describe("BDAT (RFC 3030)", () => {
  it("chunks of exact sizes, no dot-stuffing, pipelined in one write", async () => {
    const t = await ready();
    const first = "Subject: x\r\n\r\n.leading dot\r\n";
    const last = ".\r\nend\r\n";
    await t.send(`BDAT ${first.length}\r\n${first}BDAT ${last.length} LAST\r\n${last}`);
    expect(t.drain()).toEqual([`250 2.0.0 Ok: ${first.length} bytes`, "250 2.0.0 Ok: queued as QID1"]);
    expect(bodyOf(t)).toBe(first + last);
  });

  it("a chunk split over many feeds, the size line too", async () => {
    const t = await ready();
    const chunk = "0123456789\r\n".repeat(20);
    const input = `BDAT ${chunk.length} LAST\r\n${chunk}NOOP\r\n`;
    for (const byte of input) await t.send(byte);
    expect(t.drain()).toEqual(["250 2.0.0 Ok: queued as QID1", "250 2.0.0 Ok"]);
    expect(bodyOf(t)).toBe(chunk);
  });

  it("chunk data that looks like commands stays data", async () => {
    const t = await ready();
    const chunk = "RSET\r\nMAIL FROM:<x@y>\r\n.\r\nQUIT\r\n";
    await t.send(`BDAT ${chunk.length} LAST\r\n${chunk}`);
    expect(t.drain()).toEqual(["250 2.0.0 Ok: queued as QID1"]);
    expect(bodyOf(t)).toBe(chunk);
    expect(t.session.closed).toBe(false);
  });

  it("BDAT 0 LAST ends a message; lower-case last works", async () => {
    const t = await ready();
    await t.send("BDAT 5\r\nabc\r\nbdat 0 last\r\n");
    expect(t.drain()).toEqual(["250 2.0.0 Ok: 5 bytes", "250 2.0.0 Ok: queued as QID1"]);
    expect(bodyOf(t)).toBe("abc\r\n");
  });

  it("without MAIL the chunk is still read, then refused", async () => {
    const t = await tlsTranscript();
    await t.send("BDAT 12 LAST\r\nNOOP\r\nNOOP\r\nNOOP\r\n");
    expect(t.drain()).toEqual(["503 5.5.1 Error: need RCPT command", "250 2.0.0 Ok"]);
  });

  it("without an accepted recipient every chunk is refused up to LAST, then the transaction is gone", async () => {
    const t = await tlsTranscript();
    await t.send("MAIL FROM:<x@elsewhere.test>\r\nRCPT TO:<y@remote.test>\r\n");
    t.drain();
    await t.send("BDAT 3\r\nabcBDAT 3 LAST\r\ndef");
    expect(t.drain()).toEqual([
      "554 5.5.1 Error: no valid recipients",
      "554 5.5.1 Error: no valid recipients",
    ]);
    await t.send("RCPT TO:<y@remote.test>\r\n");
    t.expect("503 5.5.1 Error: need MAIL command");
  });

  it("message_size_limit: the chunk that crosses it and every later one get 552; nothing is queued", async () => {
    const t = await ready({ settings: { message_size_limit: "10" } });
    await t.send("BDAT 6\r\nabcdefBDAT 6\r\nghijklBDAT 2 LAST\r\nmn");
    expect(t.drain()).toEqual([
      "250 2.0.0 Ok: 6 bytes",
      "552 5.3.4 Message size exceeds fixed limit",
      "552 5.3.4 Message size exceeds fixed limit",
    ]);
    expect(t.accepted).toEqual([]);
    await t.send("NOOP\r\n");
    t.expect("250 2.0.0 Ok");
  });

  it("a message of exactly the limit goes", async () => {
    const t = await ready({ settings: { message_size_limit: "10" } });
    await t.send("BDAT 10 LAST\r\n0123456789");
    t.expect("250 2.0.0 Ok: queued as QID1");
  });

  it("DATA after BDAT in one transaction is refused", async () => {
    const t = await ready();
    await t.send("BDAT 3\r\nabc");
    t.expect("250 2.0.0 Ok: 3 bytes");
    await t.send("DATA\r\n");
    t.expect("503 5.5.1 Error: DATA after BDAT");
  });

  it("RSET drops the chunks received so far", async () => {
    const t = await ready();
    await t.send("BDAT 3\r\nabcRSET\r\n");
    expect(t.drain()).toEqual(["250 2.0.0 Ok: 3 bytes", "250 2.0.0 Ok"]);
    await t.envelope("alice@example.com", "bob@remote.test");
    await t.send("BDAT 3 LAST\r\nxyz");
    t.expect(/^250 2\.0\.0 Ok: queued as /);
    expect(bodyOf(t)).toBe("xyz");
  });

  const syntax = ["BDAT", "BDAT x", "BDAT -1", "BDAT 1 FIRST", "BDAT 1234567890123456"];
  for (const command of syntax) {
    it(`'${command}' cannot be framed: 501 and the session ends`, async () => {
      const t = await ready();
      await t.send(`${command}\r\nMAIL FROM:<x@y>\r\n`);
      expect(t.drain()).toEqual(["501 5.5.4 Syntax: BDAT count [LAST]"]);
      expect(t.session.closed).toBe(true);
    });
  }

  it("reject mode: a bare LF in a chunk is 521 and the end", async () => {
    const t = await ready();
    await t.send("BDAT 4 LAST\r\na\nb.");
    expect(t.drain()).toEqual(["521 5.5.2 Error: bare <LF> received"]);
    expect(t.session.closed).toBe(true);
    expect(t.accepted).toEqual([]);
  });

  it("reject mode: CR at the end of a chunk and LF at the start of the next is a CRLF", async () => {
    const t = await ready();
    await t.send("BDAT 2\r\na\rBDAT 2 LAST\r\n\nb");
    expect(t.drain()).toEqual(["250 2.0.0 Ok: 2 bytes", "250 2.0.0 Ok: queued as QID1"]);
    expect(bodyOf(t)).toBe("a\r\nb");
  });

  it("reject mode: a CR ending the last chunk is a bare CR", async () => {
    const t = await ready();
    await t.send("BDAT 2 LAST\r\na\r");
    expect(t.drain()).toEqual(["521 5.5.2 Error: bare <CR> received"]);
  });

  it("normalize mode: BDAT content passes as sent (it is length-framed)", async () => {
    const t = await ready({ smtpd: { smtpd_forbid_bare_newline: "normalize" } });
    await t.send("BDAT 4 LAST\r\na\nb\r");
    t.expect("250 2.0.0 Ok: queued as QID1");
    expect(bodyOf(t)).toBe("a\nb\r");
  });
});
