import { describe, expect, it } from "vitest";
import { decodeBase64, encodeBase64Body, encodeTextBody } from "./transfer-encoding.ts";

const decodeQuotedPrintable = (data: string) =>
  new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(
    Uint8Array.from(
      data
        .replace(/=\r\n/g, "")
        .replace(/=([0-9A-F]{2})/g, (_, hex: string) => String.fromCharCode(parseInt(hex, 16))),
      (c) => c.charCodeAt(0),
    ),
  );

describe("encodeTextBody", () => {
  const cases = [
    { name: "ASCII stays 7bit", input: "hello\nworld", encoding: "7bit", data: "hello\r\nworld" },
    { name: "CR and CRLF become CRLF", input: "a\rb\r\nc", encoding: "7bit", data: "a\r\nb\r\nc" },
    { name: "998-char line is still 7bit", input: "a".repeat(998), encoding: "7bit", data: "a".repeat(998) },
    { name: "non-ASCII", input: "é", encoding: "quoted-printable", data: "=C3=A9" },
    { name: "control character", input: "a\u0000b", encoding: "quoted-printable", data: "a=00b" },
    { name: "'=' is escaped", input: "é a=b", encoding: "quoted-printable", data: "=C3=A9 a=3Db" },
    {
      name: "trailing space is escaped",
      input: "é \nx\t",
      encoding: "quoted-printable",
      data: "=C3=A9=20\r\nx=09",
    },
  ];
  for (const c of cases) {
    it(c.name, () => expect(encodeTextBody(c.input)).toEqual({ encoding: c.encoding, data: c.data }));
  }

  it("soft-breaks quoted-printable at 76 characters without splitting an escape", () => {
    const input = `${"é".repeat(100)} ${"x".repeat(200)}\n${"= ".repeat(80)}`;
    const { encoding, data } = encodeTextBody(input);
    expect(encoding).toBe("quoted-printable");
    for (const line of data.split("\r\n")) {
      expect(line.length).toBeLessThanOrEqual(76);
      expect(line).not.toMatch(/=[0-9A-F]?=$/);
    }
    expect(decodeQuotedPrintable(data)).toBe(input.replace(/\n/g, "\r\n"));
  });

  it("uses quoted-printable for a 999-char ASCII line", () => {
    expect(encodeTextBody("a".repeat(999)).encoding).toBe("quoted-printable");
  });
});

describe("base64 helpers", () => {
  it("wraps at 76 and round-trips", () => {
    const bytes = Uint8Array.from({ length: 1000 }, (_, i) => i % 256);
    const body = encodeBase64Body(bytes);
    for (const line of body.split("\r\n")) expect(line.length).toBeLessThanOrEqual(76);
    expect(decodeBase64(body)).toEqual(bytes);
  });
  const cases = [
    { input: "", want: new Uint8Array() },
    { input: "QUJD", want: new TextEncoder().encode("ABC") },
    { input: "QUI", want: new TextEncoder().encode("AB") }, // padding optional
    { input: "Q U\r\nJ D", want: new TextEncoder().encode("ABC") },
    { input: "QUJD!", want: null },
    { input: "Q", want: null },
    { input: "_-_-", want: null },
    { input: "QQ==QQ==", want: null },
  ];
  for (const { input, want } of cases) {
    it(`decodeBase64(${JSON.stringify(input)})`, () => expect(decodeBase64(input)).toEqual(want));
  }
});
