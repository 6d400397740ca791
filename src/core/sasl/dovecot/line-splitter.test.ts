import { describe, expect, it } from "vitest";
import { LineSplitter } from "./line-splitter.ts";

const bytes = (text: string) => new TextEncoder().encode(text);

describe("LineSplitter", () => {
  it("splits on LF across chunk boundaries and keeps the partial tail", () => {
    const splitter = new LineSplitter(100);
    expect(splitter.push(bytes("VERSION\t1\t2\nMECH\tPL"))).toEqual({
      lines: ["VERSION\t1\t2"],
      overflow: false,
    });
    expect(splitter.push(bytes("AIN\tplaintext\nDONE\n"))).toEqual({
      lines: ["MECH\tPLAIN\tplaintext", "DONE"],
      overflow: false,
    });
  });

  it("keeps CR: it is not a line ending in this protocol", () => {
    expect(new LineSplitter(100).push(bytes("DONE\r\n")).lines).toEqual(["DONE\r"]);
  });

  it("decodes UTF-8", () => {
    expect(new LineSplitter(100).push(bytes("OK\t1\tuser=jürgen\n")).lines).toEqual(["OK\t1\tuser=jürgen"]);
  });

  it("accepts a line of exactly the bound", () => {
    const line = "x".repeat(10);
    expect(new LineSplitter(10).push(bytes(`${line}\n`))).toEqual({ lines: [line], overflow: false });
  });

  it("reports a complete line over the bound, after the lines before it", () => {
    const result = new LineSplitter(10).push(bytes(`ok\n${"x".repeat(11)}\nlater\n`));
    expect(result).toEqual({ lines: ["ok"], overflow: true });
  });

  it("reports an unterminated line as soon as it passes the bound", () => {
    const splitter = new LineSplitter(10);
    expect(splitter.push(bytes("x".repeat(10))).overflow).toBe(false);
    expect(splitter.push(bytes("x")).overflow).toBe(true);
  });
});
