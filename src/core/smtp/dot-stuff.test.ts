import { describe, expect, it } from "vitest";
import { DATA_CHUNK_BYTES, dotStuff } from "./dot-stuff.ts";

const enc = (text: string) => new TextEncoder().encode(text);
const dec = (bytes: Uint8Array) => new TextDecoder().decode(bytes);

function streamOf(chunks: Uint8Array[]): ReadableStream<Uint8Array> {
  return new ReadableStream({
    start(controller) {
      for (const chunk of chunks) controller.enqueue(chunk);
      controller.close();
    },
  });
}

async function collect(
  body: Uint8Array | ReadableStream<Uint8Array>,
  chunkBytes?: number,
): Promise<Uint8Array[]> {
  const out: Uint8Array[] = [];
  for await (const chunk of dotStuff(body, chunkBytes)) out.push(chunk);
  return out;
}

async function stuffed(chunks: string[]): Promise<string> {
  const out = await collect(streamOf(chunks.map(enc)));
  return out.map(dec).join("");
}

describe("dotStuff", () => {
  const cases = [
    { name: "plain lines pass through", input: ["a\r\nb\r\n"], want: "a\r\nb\r\n" },
    { name: "a leading dot is doubled", input: [".hidden\r\n"], want: "..hidden\r\n" },
    { name: "a lone dot line (would end DATA)", input: ["a\r\n.\r\nb\r\n"], want: "a\r\n..\r\nb\r\n" },
    { name: "dots not at line start stay", input: ["a.b\r\nc.\r\n"], want: "a.b\r\nc.\r\n" },
    { name: "only the first dot of a line", input: ["...x\r\n"], want: "....x\r\n" },
    { name: "missing final CRLF is added", input: ["a\r\nlast"], want: "a\r\nlast\r\n" },
    { name: "final lone CR is completed", input: ["a\r"], want: "a\r\n" },
    { name: "bare LF becomes CRLF", input: ["a\nb\n"], want: "a\r\nb\r\n" },
    { name: "bare LF then dot (smuggling)", input: ["a\n.\nb\r\n"], want: "a\r\n..\r\nb\r\n" },
    { name: "bare CR becomes CRLF", input: ["a\rb\r\n"], want: "a\r\nb\r\n" },
    { name: "bare CR then dot (smuggling)", input: ["a\r.\rb\r\n"], want: "a\r\n..\r\nb\r\n" },
    {
      name: "CR and LF split across chunks stay one line end",
      input: ["a\r", "\n.b\r\n"],
      want: "a\r\n..b\r\n",
    },
    { name: "bare CR at a chunk end, dot next chunk", input: ["a\r", ".\r\n"], want: "a\r\n..\r\n" },
    { name: "CR CR LF is a bare CR, then a line end", input: ["a\r\r\nb\r\n"], want: "a\r\n\r\nb\r\n" },
    { name: "empty body stays empty", input: [], want: "" },
    { name: "empty chunks are harmless", input: ["", "a\r\n", ""], want: "a\r\n" },
    { name: "dot right after a chunk boundary", input: ["a\r\n", ".b\r\n"], want: "a\r\n..b\r\n" },
    { name: "LF alone at a chunk start", input: ["a\r", "\n.b\r\n"], want: "a\r\n..b\r\n" },
    {
      name: "CR and LF in separate chunks, then a dot",
      input: ["x\r", "\n", ".", "\r\n"],
      want: "x\r\n..\r\n",
    },
    { name: "bare LF at a chunk start", input: ["a", "\nb\r\n"], want: "a\r\nb\r\n" },
    { name: "dot line as the first chunk", input: [".", "\r\n"], want: "..\r\n" },
  ];
  for (const { name, input, want } of cases) {
    it(name, async () => expect(await stuffed(input)).toBe(want));
  }

  it("takes a Uint8Array as well", async () => {
    const out = await collect(enc(".a\r\n.b"));
    expect(out.map(dec).join("")).toBe("..a\r\n..b\r\n");
  });

  it("coalesces small input chunks into full-size chunks", async () => {
    const line = enc("0123456789abcdefghijklmnopqrstuvwxyz0123456789abcdefghijklmnopqrstuv\r\n"); // 70 bytes
    const chunks = Array.from({ length: 3000 }, () => line); // 210,000 bytes
    const out = await collect(streamOf(chunks));
    expect(out.map((c) => c.length)).toEqual([DATA_CHUNK_BYTES, DATA_CHUNK_BYTES, DATA_CHUNK_BYTES, 13_392]);
    expect(out.reduce((n, c) => n + c.length, 0)).toBe(210_000);
  });

  it("stuffs dots that land exactly on an output chunk boundary", async () => {
    // With 4-byte output chunks, the doubled dot falls on a boundary.
    const out = await collect(enc("abc\r\n.d\r\n"), 4);
    expect(out.map(dec)).toEqual(["abc\r", "\n..d", "\r\n"]);
  });

  it("hands out chunks that later writes do not modify", async () => {
    const chunks: Uint8Array[] = [];
    for await (const chunk of dotStuff(enc("x".repeat(10)), 4)) chunks.push(chunk);
    expect(chunks.map(dec)).toEqual(["xxxx", "xxxx", "xx\r\n"]);
  });

  it("cancels the source stream when the consumer stops early", async () => {
    let cancelled = false;
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        controller.enqueue(new Uint8Array(DATA_CHUNK_BYTES).fill(0x61));
      },
      cancel() {
        cancelled = true;
      },
    });
    for await (const _ of dotStuff(body)) break;
    expect(cancelled).toBe(true);
  });

  it("passes a source error on", async () => {
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(enc("a\r\n"));
        controller.error(new Error("R2 read failed"));
      },
    });
    await expect(collect(body)).rejects.toThrow("R2 read failed");
  });
});
