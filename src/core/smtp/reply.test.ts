import { describe, expect, it } from "vitest";
import { memorySocketPair } from "../net/memory-socket.ts";
import { LineReader } from "./line-reader.ts";
import { parseReply, parseReplyLine, type Reply, readReply, renderReply, replyDsn } from "./reply.ts";

const bytes = (text: string) => new TextEncoder().encode(text);

describe("parseReplyLine", () => {
  const cases = [
    { input: "250 Ok", want: { code: 250, last: true, text: "Ok" } },
    { input: "250-PIPELINING", want: { code: 250, last: false, text: "PIPELINING" } },
    { input: "250", want: { code: 250, last: true, text: "" } },
    { input: "354 ", want: { code: 354, last: true, text: "" } },
    { input: "550-", want: { code: 550, last: false, text: "" } },
    { input: "199 too low", want: null },
    { input: "600 too high", want: null },
    { input: "25 short", want: null },
    { input: "2500 long", want: null },
    { input: "250Ok", want: null },
    { input: "", want: null },
    { input: "hello", want: null },
  ];
  for (const { input, want } of cases) {
    it(JSON.stringify(input), () => expect(parseReplyLine(input)).toEqual(want));
  }
});

describe("parseReply", () => {
  const cases: { name: string; input: string[]; want: Partial<Reply> | null }[] = [
    {
      name: "single line with enhanced code",
      input: ["550 5.1.1 <x@example.com>: Recipient address rejected: User unknown"],
      want: {
        code: 550,
        enhanced: "5.1.1",
        texts: ["5.1.1 <x@example.com>: Recipient address rejected: User unknown"],
      },
    },
    {
      name: "multi-line EHLO",
      input: ["250-mx.example", "250-PIPELINING", "250 SIZE 1000"],
      want: { code: 250, enhanced: null, texts: ["mx.example", "PIPELINING", "SIZE 1000"] },
    },
    { name: "enhanced code of another class is ignored", input: ["250 5.1.1 odd"], want: { enhanced: null } },
    { name: "enhanced code must end at a space", input: ["250 2.0.0x"], want: { enhanced: null } },
    { name: "enhanced code alone", input: ["421 4.4.2"], want: { enhanced: "4.4.2" } },
    { name: "three-digit subject and detail", input: ["554 5.123.456 x"], want: { enhanced: "5.123.456" } },
    { name: "codes differ", input: ["250-a", "251 b"], want: null },
    { name: "last line marked as continuation", input: ["250-a", "250-b"], want: null },
    { name: "continuation after the last line", input: ["250 a", "250 b"], want: null },
    { name: "garbage line", input: ["250-a", "junk"], want: null },
    { name: "empty", input: [], want: null },
  ];
  for (const { name, input, want } of cases) {
    it(name, () => {
      const reply = parseReply(input);
      if (want === null) expect(reply).toBeNull();
      else expect(reply).toMatchObject(want);
    });
  }
});

describe("renderReply and replyDsn", () => {
  it("joins lines the way Postfix logs multi-line replies", () => {
    const reply = parseReply([
      "550-5.1.1 The account does not exist.",
      "550 5.1.1 See https://x.test - gsmtp",
    ])!;
    expect(renderReply(reply)).toBe(
      "550-5.1.1 The account does not exist. 550 5.1.1 See https://x.test - gsmtp",
    );
  });
  it("makes server text printable", () => {
    expect(renderReply(parseReply(["550 bad \x1b[31m\u00e9"])!)).toBe("550 bad ?[31m?");
  });
  const dsns = [
    { input: "250 2.0.0 Ok", want: "2.0.0" },
    { input: "450 Try later", want: "4.0.0" },
    { input: "554 no", want: "5.0.0" },
  ];
  for (const { input, want } of dsns) {
    it(`dsn of ${input}`, () => expect(replyDsn(parseReply([input])!)).toBe(want));
  }
});

describe("readReply", () => {
  async function read(
    chunks: string[],
    options: { end?: boolean; timeout?: number; maxLines?: number } = {},
  ) {
    const [client, server] = memorySocketPair();
    for (const chunk of chunks) await server.write(bytes(chunk));
    if (options.end) await server.close();
    const reader = new LineReader(client);
    const first = await readReply(reader, options.timeout ?? 1000, options.maxLines);
    return { first, reader };
  }

  it("assembles a multi-line reply split across chunks", async () => {
    const { first } = await read(["250-mx.exa", "mple\r\n250-PIPE", "LINING\r\n250 8BITMIME\r\n"]);
    expect(first).toMatchObject({
      ok: true,
      reply: { code: 250, texts: ["mx.example", "PIPELINING", "8BITMIME"] },
    });
  });

  it("leaves the next reply in the buffer (pipelined replies)", async () => {
    const { first, reader } = await read(["250 2.1.0 Ok\r\n550 5.1.1 no\r\n354 go\r\n"]);
    expect(first).toMatchObject({ ok: true, reply: { code: 250 } });
    expect(await readReply(reader, 1000)).toMatchObject({
      ok: true,
      reply: { code: 550, enhanced: "5.1.1" },
    });
    expect(await readReply(reader, 1000)).toMatchObject({ ok: true, reply: { code: 354 } });
  });

  it("truncates an over-long line and stays in step with the next reply", async () => {
    const long = `550 ${"x".repeat(10_000)}\r\n`;
    const { first, reader } = await read([long.slice(0, 3000), long.slice(3000), "250 next\r\n"]);
    expect(first.ok).toBe(true);
    if (!first.ok) return;
    expect(first.reply.code).toBe(550);
    expect(first.reply.lines[0]!.length).toBe(4096);
    expect(await readReply(reader, 1000)).toMatchObject({ ok: true, reply: { code: 250, texts: ["next"] } });
  });

  it("refuses a reply with too many lines", async () => {
    const { first } = await read(["250-x\r\n".repeat(5), "250 end\r\n"], { maxLines: 5 });
    expect(first).toEqual({ ok: false, failure: "too-long", detail: "more than 5 lines" });
  });

  it("reports a malformed line", async () => {
    const { first } = await read(["250-ok\r\nnonsense\r\n"]);
    expect(first).toMatchObject({ ok: false, failure: "malformed", detail: "nonsense" });
  });

  it("reports lines whose codes differ as malformed", async () => {
    const { first } = await read(["250-ok\r\n251 ok\r\n"]);
    expect(first).toMatchObject({ ok: false, failure: "malformed" });
  });

  it("reports a connection closed mid-reply as lost", async () => {
    const { first } = await read(["250-first\r\n250 unfinished"], { end: true });
    expect(first).toMatchObject({ ok: false, failure: "lost" });
  });

  it("reports a reset as lost with the transport's message", async () => {
    const [client, server] = memorySocketPair();
    const reading = readReply(new LineReader(client), 1000);
    server.abort(new Error("connection reset by peer"));
    expect(await reading).toEqual({ ok: false, failure: "lost", detail: "connection reset by peer" });
  });

  it("times out over the whole reply, not per line", async () => {
    const [client, server] = memorySocketPair();
    const reading = readReply(new LineReader(client), 120);
    // A line every 50 ms would beat a per-line timeout forever.
    for (let i = 0; i < 4; i++) {
      await server.write(bytes("250-slow\r\n"));
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(await reading).toMatchObject({ ok: false, failure: "timeout" });
  });
});
