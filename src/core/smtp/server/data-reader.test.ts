import { describe, expect, it } from "vitest";
import { DataReader } from "./data-reader.ts";
import { InputBuffer } from "./input-buffer.ts";
import type { BareNewlineMode } from "./session-config.ts";

const enc = (text: string) => new TextEncoder().encode(text);
const dec = (bytes: Uint8Array) => new TextDecoder().decode(bytes);

interface Read {
  /** "end", "more", or "bare LF" / "bare CR". */
  outcome: string;
  content: string;
  /** What is left in the input after the reader stopped. */
  rest: string;
}

/** Feeds `chunks` one by one, as the session would, until the reader stops. */
function read(mode: BareNewlineMode, chunks: string[], limit = 0, afterCrlf = true): Read {
  const reader = new DataReader(mode, limit, afterCrlf);
  const input = new InputBuffer();
  let outcome = "more";
  for (const chunk of chunks) {
    input.append(enc(chunk));
    if (outcome !== "more") continue; // stopped: the rest only piles up (pipelined commands)
    const progress = reader.consume(input);
    if (progress.kind !== "more") outcome = progress.kind === "end" ? "end" : `bare ${progress.what}`;
  }
  return {
    outcome,
    content: outcome === "end" ? dec(reader.content()) : "",
    rest: outcome === "more" ? "" : dec(input.peek()),
  };
}

/** The same input split at every byte boundary (and byte by byte) reads the same. */
function everySplit(text: string): string[][] {
  const splits = [[text], [...text]];
  for (let i = 1; i < text.length; i++) splits.push([text.slice(0, i), text.slice(i)]);
  return splits;
}

const cases: { name: string; input: string; want: Record<BareNewlineMode, Partial<Read>> }[] = [
  {
    name: "plain lines",
    input: "a\r\nb\r\n.\r\nQUIT\r\n",
    want: {
      reject: { outcome: "end", content: "a\r\nb\r\n", rest: "QUIT\r\n" },
      normalize: { outcome: "end", content: "a\r\nb\r\n", rest: "QUIT\r\n" },
      no: { outcome: "end", content: "a\r\nb\r\n", rest: "QUIT\r\n" },
    },
  },
  {
    name: "an empty message",
    input: ".\r\n",
    want: {
      reject: { outcome: "end", content: "" },
      normalize: { outcome: "end", content: "" },
      no: { outcome: "end", content: "" },
    },
  },
  {
    name: "dot-unstuffing (RFC 5321 §4.5.2)",
    input: "..hidden\r\n...\r\n.x\r\n.\r\n",
    want: {
      reject: { outcome: "end", content: ".hidden\r\n..\r\nx\r\n" },
      normalize: { outcome: "end", content: ".hidden\r\n..\r\nx\r\n" },
      no: { outcome: "end", content: ".hidden\r\n..\r\nx\r\n" },
    },
  },
  {
    name: "dots not at a line start stay",
    input: "a.\r\nb. .\r\n.\r\n",
    want: {
      reject: { outcome: "end", content: "a.\r\nb. .\r\n" },
      normalize: { outcome: "end", content: "a.\r\nb. .\r\n" },
      no: { outcome: "end", content: "a.\r\nb. .\r\n" },
    },
  },
  {
    name: "smuggling: LF . LF",
    input: "a\n.\nMAIL FROM:<x>\r\n.\r\n",
    want: {
      reject: { outcome: "bare LF" },
      normalize: { outcome: "end", content: "a\r\n.\r\nMAIL FROM:<x>\r\n" },
      no: { outcome: "end", content: "a\r\n", rest: "MAIL FROM:<x>\r\n.\r\n" },
    },
  },
  {
    name: "smuggling: LF . CRLF",
    input: "a\n.\r\nMAIL FROM:<x>\r\n.\r\n",
    want: {
      reject: { outcome: "bare LF" },
      normalize: { outcome: "end", content: "a\r\n.\r\nMAIL FROM:<x>\r\n" },
      no: { outcome: "end", content: "a\r\n", rest: "MAIL FROM:<x>\r\n.\r\n" },
    },
  },
  {
    name: "smuggling: CRLF . LF",
    input: "a\r\n.\nMAIL FROM:<x>\r\n.\r\n",
    want: {
      reject: { outcome: "bare LF" },
      normalize: { outcome: "end", content: "a\r\n.\r\nMAIL FROM:<x>\r\n" },
      no: { outcome: "end", content: "a\r\n", rest: "MAIL FROM:<x>\r\n.\r\n" },
    },
  },
  {
    name: "smuggling: CR . CR",
    input: "a\r.\rMAIL FROM:<x>\r\n.\r\n",
    want: {
      reject: { outcome: "bare CR" },
      normalize: { outcome: "end", content: "a\r.\rMAIL FROM:<x>\r\n" },
      no: { outcome: "end", content: "a\r.\rMAIL FROM:<x>\r\n" },
    },
  },
  {
    name: "smuggling: CRLF . CR",
    input: "a\r\n.\rMAIL FROM:<x>\r\n.\r\n",
    want: {
      reject: { outcome: "bare CR" },
      normalize: { outcome: "end", content: "a\r\n\rMAIL FROM:<x>\r\n" },
      no: { outcome: "end", content: "a\r\n\rMAIL FROM:<x>\r\n" },
    },
  },
  {
    name: "a bare LF inside a line",
    input: "a\nb\r\n.\r\n",
    want: {
      reject: { outcome: "bare LF" },
      normalize: { outcome: "end", content: "a\r\nb\r\n" },
      no: { outcome: "end", content: "a\r\nb\r\n" },
    },
  },
  {
    name: "a bare CR inside a line",
    input: "a\rb\r\n.\r\n",
    want: {
      reject: { outcome: "bare CR" },
      normalize: { outcome: "end", content: "a\rb\r\n" },
      no: { outcome: "end", content: "a\rb\r\n" },
    },
  },
  {
    name: "CR CR LF",
    input: "a\r\r\n.\r\n",
    want: {
      reject: { outcome: "bare CR" },
      normalize: { outcome: "end", content: "a\r\r\n" },
      no: { outcome: "end", content: "a\r\r\n" },
    },
  },
  {
    name: "binary bytes (8BITMIME) pass through",
    input: "caf\u00e9 \u2603\r\n.\r\n",
    want: {
      reject: { outcome: "end", content: "caf\u00e9 \u2603\r\n" },
      normalize: { outcome: "end", content: "caf\u00e9 \u2603\r\n" },
      no: { outcome: "end", content: "caf\u00e9 \u2603\r\n" },
    },
  },
  {
    name: "no end yet",
    input: "a\r\n.\r",
    want: {
      reject: { outcome: "more" },
      normalize: { outcome: "more" },
      no: { outcome: "more" },
    },
  },
];

describe("DataReader", () => {
  for (const { name, input, want } of cases) {
    for (const mode of ["reject", "normalize", "no"] as const) {
      it(`${name} (${mode}), split at every byte boundary`, () => {
        const expected = read(mode, [input]);
        expect(expected).toMatchObject(want[mode]);
        for (const chunks of everySplit(input)) expect(read(mode, chunks)).toEqual(expected);
      });
    }
  }

  it("normalize: a message whose previous line ended in a bare LF is not ended by CRLF . CRLF", () => {
    expect(read("normalize", ["a\n.\r\nb\r\n.\r\n"])).toEqual({
      outcome: "end",
      content: "a\r\n.\r\nb\r\n",
      rest: "",
    });
  });

  it("normalize: a DATA command ended by a bare LF does not let a first '.' line end the data", () => {
    expect(read("normalize", [".\r\nx\r\n.\r\n"], 0, false)).toEqual({
      outcome: "end",
      content: ".\r\nx\r\n",
      rest: "",
    });
    expect(read("no", [".\r\n"], 0, false).outcome).toBe("end");
  });

  it("counts past the size limit without keeping the content", () => {
    const reader = new DataReader("reject", 10, true);
    const input = new InputBuffer();
    input.append(enc(`${"x".repeat(100)}\r\n..y\r\n`));
    expect(reader.consume(input)).toEqual({ kind: "more" });
    expect(reader.overflow).toBe(true);
    input.append(enc(".\r\n"));
    expect(reader.consume(input)).toEqual({ kind: "end" });
    expect(reader.size).toBe(106);
    expect(reader.content()).toEqual(new Uint8Array());
  });

  it("keeps a message of exactly the limit", () => {
    const reader = new DataReader("reject", 5, true);
    const input = new InputBuffer();
    input.append(enc("abc\r\n.\r\n"));
    expect(reader.consume(input)).toEqual({ kind: "end" });
    expect(reader.overflow).toBe(false);
    expect(dec(reader.content())).toBe("abc\r\n");
  });

  it("reads a large message in big chunks", () => {
    const line = `${"0123456789".repeat(99)}\r\n`;
    const body = line.repeat(2000);
    const reader = new DataReader("reject", 0, true);
    const input = new InputBuffer();
    for (let i = 0; i < body.length; i += 65536) {
      input.append(enc(body.slice(i, i + 65536)));
      expect(reader.consume(input)).toEqual({ kind: "more" });
    }
    input.append(enc(".\r\n"));
    expect(reader.consume(input)).toEqual({ kind: "end" });
    expect(reader.content().length).toBe(body.length);
  });
});
