// Streaming DATA and BDAT to an accept port with open(): the content reaches the writer piece by
// piece while the client is still sending (Received: first, dot-unstuffed), the writer is finished
// only at the end, and every way a message can fail (size limit, bare newline, lost connection,
// RSET, a refused chunk, a failing write, a failing open) aborts it with nothing accepted.
import { describe, expect, it } from "vitest";
import type { AcceptResult, Envelope, MessageWriter } from "./session-ports.ts";
import { type Transcript, type TranscriptOptions, tlsTranscript } from "./transcript.test-helper.ts";

const decoder = new TextDecoder();

/** A writer that records what happens to it. */
class RecordingWriter implements MessageWriter {
  readonly pieces: string[] = [];
  finished: { envelope: Envelope; size: number } | null = null;
  aborted = 0;
  failWrites = false;

  async write(bytes: Uint8Array): Promise<void> {
    if (this.failWrites) throw new Error("disk full");
    this.pieces.push(decoder.decode(bytes));
  }

  async finish(envelope: Envelope, size: number): Promise<AcceptResult> {
    this.finished = { envelope, size };
    return { ok: true, queueId: envelope.queueId };
  }

  async abort(): Promise<void> {
    this.aborted++;
  }

  get content(): string {
    return this.pieces.join("");
  }
}

async function streaming(options: TranscriptOptions = {}) {
  const writers: RecordingWriter[] = [];
  const t = await tlsTranscript({
    ...options,
    open: async () => {
      const writer = new RecordingWriter();
      writers.push(writer);
      return writer;
    },
  });
  await t.login("alice", "alice-password");
  await t.envelope("alice@example.com", "bob@remote.test");
  return { t, writers };
}

const withoutReceived = (text: string) => text.replace(/^Received:(?:.*\r\n)(?:\t.*\r\n)*/, "");

describe("DATA streamed to the accept port", () => {
  it("pieces reach the writer before the end, Received: first, unstuffed; finish only at the dot", async () => {
    const { t, writers } = await streaming();
    await t.send("DATA\r\n");
    t.expect(/^354 /);
    const [writer] = writers;
    expect(writer?.content).toMatch(/^Received: from c\.example /);
    await t.send("Subject: s\r\n\r\nfirst line\r\n..dot line\r\n");
    expect(withoutReceived(writer!.content)).toBe("Subject: s\r\n\r\nfirst line\r\n.dot line\r\n");
    expect(writer!.finished).toBeNull();
    await t.send("last line\r\n.\r\n");
    t.expect("250 2.0.0 Ok: queued as QID1");
    expect(withoutReceived(writer!.content)).toBe(
      "Subject: s\r\n\r\nfirst line\r\n.dot line\r\nlast line\r\n",
    );
    expect(writer!.finished?.size).toBe(new TextEncoder().encode(writer!.content).length);
    expect(writer!.finished?.envelope).toMatchObject({ queueId: "QID1", sender: "alice@example.com" });
    expect(writer!.aborted).toBe(0);
    expect(t.accepted).toEqual([]); // the whole-message path was not used
  });

  it("past message_size_limit the writer is aborted at once and never finished: 552", async () => {
    const { t, writers } = await streaming({ settings: { message_size_limit: "1000" } });
    await t.send("DATA\r\n");
    t.expect(/^354 /);
    await t.send(`${"x".repeat(78)}\r\n`.repeat(20));
    expect(writers[0]!.aborted).toBe(1);
    await t.send(".\r\n");
    t.expect(/^552 5\.3\.4 /);
    expect(writers[0]!.finished).toBeNull();
  });

  it("a bare LF mid-content: 521, the connection closes, the writer is aborted", async () => {
    const { t, writers } = await streaming();
    await t.send("DATA\r\n");
    t.expect(/^354 /);
    await t.send("good line\r\nbad\n.\nMAIL FROM:<x@y>\r\n");
    t.expect(/^521 /);
    t.expectClose();
    expect(writers[0]!.aborted).toBe(1);
    expect(writers[0]!.finished).toBeNull();
  });

  it("the client goes away mid-content: the writer is aborted before end() resolves", async () => {
    const { t, writers } = await streaming();
    await t.send("DATA\r\n");
    t.expect(/^354 /);
    await t.send("some content\r\n");
    await t.session.end();
    expect(writers[0]!.aborted).toBe(1);
    expect(writers[0]!.finished).toBeNull();
  });

  it("an idle timeout mid-content aborts the writer", async () => {
    const { t, writers } = await streaming();
    await t.send("DATA\r\n");
    await t.send("some content\r\n");
    expect(writers[0]!.aborted).toBe(0);
    t.session.timeout();
    await t.session.end();
    expect(writers[0]!.aborted).toBe(1);
  });

  it("a failing write: the rest is read, then 451 4.3.0 and nothing finished", async () => {
    const { t, writers } = await streaming();
    await t.send("DATA\r\n");
    t.expect(/^354 /);
    writers[0]!.failWrites = true;
    await t.send("content\r\n");
    expect(writers[0]!.aborted).toBe(1);
    await t.send("more\r\n.\r\nNOOP\r\n");
    expect(t.drain()).toEqual(["451 4.3.0 Error: queue file write error", "250 2.0.0 Ok"]);
    expect(writers[0]!.finished).toBeNull();
  });

  it("open() failing: DATA gets 451 4.3.0, no 354", async () => {
    const t = await tlsTranscript({
      open: async () => {
        throw new Error("no space left on device");
      },
    });
    await t.login("alice", "alice-password");
    await t.envelope("alice@example.com", "bob@remote.test");
    await t.send("DATA\r\n");
    t.expect("451 4.3.0 Error: queue file write error");
    expect(t.logs.some((line) => /opening the queue file failed: no space left/.test(line))).toBe(true);
  });

  it("a refusal at finish: the reply is passed on and the writer aborted", async () => {
    const { t, writers } = await streaming();
    await t.send("DATA\r\n");
    t.expect(/^354 /);
    writers[0]!.finish = async () => ({
      ok: false,
      reply: { code: 452, enhanced: "4.3.1", text: "Insufficient system storage" },
    });
    await t.send("x\r\n.\r\n");
    t.expect("452 4.3.1 Insufficient system storage");
    expect(writers[0]!.aborted).toBe(1);
  });
});

describe("BDAT streamed to the accept port", () => {
  async function chunk(t: Transcript, text: string, last = false) {
    await t.send(`BDAT ${text.length}${last ? " LAST" : ""}\r\n${text}`);
  }

  it("each chunk is written as it comes; LAST finishes", async () => {
    const { t, writers } = await streaming();
    await chunk(t, "Subject: b\r\n\r\n");
    t.expect("250 2.0.0 Ok: 14 bytes");
    expect(withoutReceived(writers[0]!.content)).toBe("Subject: b\r\n\r\n");
    await chunk(t, ".not stuffed\r\n", true);
    t.expect("250 2.0.0 Ok: queued as QID1");
    expect(withoutReceived(writers[0]!.content)).toBe("Subject: b\r\n\r\n.not stuffed\r\n");
    expect(writers[0]!.finished).not.toBeNull();
  });

  it("RSET between chunks aborts the writer", async () => {
    const { t, writers } = await streaming();
    await chunk(t, "part one\r\n");
    t.expect(/^250 /);
    await t.send("RSET\r\n");
    t.expect("250 2.0.0 Ok");
    expect(writers[0]!.aborted).toBe(1);
    expect(writers[0]!.finished).toBeNull();
  });

  it("a chunk over message_size_limit aborts the writer: 552 at LAST", async () => {
    const { t, writers } = await streaming({ settings: { message_size_limit: "50" } });
    await chunk(t, "small\r\n");
    t.expect(/^250 /);
    await chunk(t, "y".repeat(60), true);
    t.expect(/^552 5\.3\.4 /);
    expect(writers[0]!.aborted).toBe(1);
    expect(writers[0]!.finished).toBeNull();
  });

  it("a bare CR in a chunk: 521 and the writer aborted", async () => {
    const { t, writers } = await streaming();
    await chunk(t, "fine\r\n");
    t.expect(/^250 /);
    await chunk(t, "bad\rline\r\n", true);
    t.expect(/^521 /);
    t.expectClose();
    expect(writers[0]!.aborted).toBe(1);
  });
});
