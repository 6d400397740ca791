import { describe, expect, it } from "vitest";
import { memorySocketPair } from "../net/memory-socket.ts";
import { LineReader } from "./line-reader.ts";

const bytes = (text: string) => new TextEncoder().encode(text);

async function linesOf(chunks: (string | number[])[], maxBytes?: number) {
  const [client, server] = memorySocketPair();
  for (const chunk of chunks)
    await server.write(typeof chunk === "string" ? bytes(chunk) : Uint8Array.from(chunk));
  await server.close();
  const reader = new LineReader(client, maxBytes);
  const out: unknown[] = [];
  for (;;) {
    const read = await reader.readLine(1000);
    out.push(read.kind === "line" ? (read.truncated ? `${read.line}[cut]` : read.line) : read.kind);
    if (read.kind !== "line") return out;
  }
}

describe("LineReader", () => {
  const cases: { name: string; chunks: (string | number[])[]; want: string[] }[] = [
    { name: "CRLF lines", chunks: ["a\r\nb\r\n"], want: ["a", "b", "eof"] },
    { name: "bare LF also ends a line", chunks: ["a\nb\r\n"], want: ["a", "b", "eof"] },
    { name: "CR and LF in different chunks", chunks: ["abc\r", "\ndef\r\n"], want: ["abc", "def", "eof"] },
    { name: "line split over many chunks", chunks: ["2", "5", "0 o", "k\r\n"], want: ["250 ok", "eof"] },
    { name: "empty lines", chunks: ["\r\n\r\n"], want: ["", "", "eof"] },
    { name: "partial last line is not a line", chunks: ["a\r\npart"], want: ["a", "eof"] },
    { name: "CR inside a line is kept", chunks: ["a\rb\r\n"], want: ["a\rb", "eof"] },
    {
      name: "UTF-8 split across chunks",
      chunks: [
        [0x63, 0x61, 0x66, 0xc3],
        [0xa9, 0x0d, 0x0a],
      ],
      want: ["café", "eof"],
    },
  ];
  for (const { name, chunks, want } of cases) {
    it(name, async () => expect(await linesOf(chunks)).toEqual(want));
  }

  const bounded = [
    { name: "a line of exactly the bound fits", chunks: ["12345678\r\n"], want: ["12345678", "eof"] },
    {
      name: "an over-long line is cut",
      chunks: ["123456789\r\nok\r\n"],
      want: ["12345678[cut]", "ok", "eof"],
    },
    {
      name: "an over-long line across chunks is cut and its rest skipped",
      chunks: ["1234", "5678", "9abc", "defg", "\r\nok\r\n"],
      want: ["12345678[cut]", "ok", "eof"],
    },
    {
      name: "exactly the bound with CR and LF apart",
      chunks: ["12345678\r", "\nok\r\n"],
      want: ["12345678", "ok", "eof"],
    },
  ];
  for (const { name, chunks, want } of bounded) {
    it(name, async () => expect(await linesOf(chunks, 8)).toEqual(want));
  }

  it("splits a multi-byte character at the bound into a replacement character", async () => {
    const out = await linesOf(["abcdefg\u00e9\r\n"], 8);
    expect(out).toEqual(["abcdefg\ufffd[cut]", "eof"]);
  });

  it("does not lose bytes that arrive after a timeout", async () => {
    const [client, server] = memorySocketPair();
    const reader = new LineReader(client);
    expect(await reader.readLine(20)).toEqual({ kind: "timeout" });
    await server.write(bytes("250 late\r\n"));
    expect(await reader.readLine(1000)).toEqual({ kind: "line", line: "250 late", truncated: false });
  });

  it("reports a transport error and keeps reporting it", async () => {
    const [client, server] = memorySocketPair();
    const reader = new LineReader(client);
    const reading = reader.readLine(1000);
    server.abort(new Error("reset"));
    expect(await reading).toEqual({ kind: "error", message: "reset" });
    expect(await reader.readLine(1000)).toEqual({ kind: "error", message: "reset" });
  });
});
