import { describe, expect, it } from "vitest";
import { InputBuffer, type LineRead } from "./input-buffer.ts";

const enc = (text: string) => new TextEncoder().encode(text);
const dec = (bytes: Uint8Array) => new TextDecoder().decode(bytes);

function lines(chunks: string[], limit: number): string[] {
  const input = new InputBuffer();
  const out: string[] = [];
  const show = (read: LineRead) =>
    read.kind === "line" ? `${dec(read.bytes)}|${read.ending}` : `<too long>|${read.ending}`;
  for (const chunk of chunks) {
    input.append(enc(chunk));
    for (let read = input.readLine(limit); read; read = input.readLine(limit)) out.push(show(read));
  }
  return out;
}

describe("InputBuffer.readLine", () => {
  const cases: { name: string; chunks: string[]; limit?: number; want: string[] }[] = [
    { name: "CRLF lines", chunks: ["a\r\nb\r\n"], want: ["a|crlf", "b|crlf"] },
    { name: "a bare LF ends a line, and says so", chunks: ["a\nb\r\n"], want: ["a|lf", "b|crlf"] },
    { name: "a CR inside a line stays", chunks: ["a\rb\r\n"], want: ["a\rb|crlf"] },
    { name: "CR and LF in different chunks", chunks: ["ab\r", "\ncd\r\n"], want: ["ab|crlf", "cd|crlf"] },
    { name: "a partial line waits", chunks: ["a\r\npar"], want: ["a|crlf"] },
    { name: "an empty line", chunks: ["\r\n"], want: ["|crlf"] },
    { name: "exactly the limit (CRLF counted)", chunks: ["123456\r\n"], limit: 8, want: ["123456|crlf"] },
    {
      name: "one over the limit",
      chunks: ["1234567\r\nok\r\n"],
      limit: 8,
      want: ["<too long>|crlf", "ok|crlf"],
    },
    {
      name: "an over-long line arriving in pieces is skipped to its LF",
      chunks: ["1234", "5678", "9abc", "def\r", "\nok\r\n"],
      limit: 8,
      want: ["<too long>|crlf", "ok|crlf"],
    },
    {
      name: "an over-long line ending in a bare LF",
      chunks: ["123456789", "abc\nok\n"],
      limit: 8,
      want: ["<too long>|lf", "ok|lf"],
    },
    {
      name: "the LF alone in a chunk after skipping",
      chunks: ["123456789abc\r", "\n", "ok\r\n"],
      limit: 8,
      want: ["<too long>|crlf", "ok|crlf"],
    },
    {
      name: "exactly the limit with its CR and LF apart",
      chunks: ["123456\r", "\n"],
      limit: 8,
      want: ["123456|crlf"],
    },
  ];
  for (const { name, chunks, limit, want } of cases) {
    it(name, () => expect(lines(chunks, limit ?? 512)).toEqual(want));
  }

  it("byte-at-a-time input gives the same lines", () => {
    const text = "EHLO x\r\nMAIL FROM:<a@b>\nRCPT TO:<c@d>\r\n\r\n";
    expect(lines([...text], 512)).toEqual(lines([text], 512));
  });

  it("keeps nothing while it skips an over-long line", () => {
    const input = new InputBuffer();
    input.append(enc("x".repeat(100)));
    expect(input.readLine(16)).toBeNull();
    for (let i = 0; i < 100; i++) input.append(enc("y".repeat(10_000)));
    expect(input.pending).toBe(0);
    input.append(enc("\r\nNOOP\r\n"));
    expect(input.readLine(16)).toEqual({ kind: "too-long", ending: "crlf" });
    expect(input.readLine(16)).toMatchObject({ kind: "line", ending: "crlf" });
  });
});

describe("InputBuffer raw access", () => {
  it("peek, consume and clear", () => {
    const input = new InputBuffer();
    input.append(enc("hello "));
    input.append(enc("world"));
    expect(dec(input.peek(7))).toBe("hello w");
    input.consume(6);
    expect(input.pending).toBe(5);
    expect(dec(input.peek())).toBe("world");
    expect(input.clear()).toBe(5);
    expect(input.pending).toBe(0);
  });

  it("grows and compacts without losing bytes", () => {
    const input = new InputBuffer();
    let expected = "";
    let consumed = "";
    for (let i = 0; i < 2000; i++) {
      const chunk = `${i}:${"z".repeat(i % 37)}\n`;
      input.append(enc(chunk));
      expected += chunk;
      if (i % 3 === 0) {
        const read = input.readLine(1000);
        if (read?.kind === "line") consumed += `${dec(read.bytes)}\n`;
      }
    }
    consumed += dec(input.peek());
    expect(consumed).toBe(expected);
  });
});
