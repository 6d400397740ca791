// Content-Transfer-Encodings (RFC 2045 §6) for the parts Postern composes: text goes out as 7bit
// when it already is (ASCII, lines <= 998), else quoted-printable; attachments as base64 in
// 76-character lines. Either way the message is 7-bit clean and needs no 8BITMIME downstream.
import { base64ToBytes, bytesToBase64 } from "../encoding/base64.ts";

const encoder = new TextEncoder();
const SEVEN_BIT_LINE = /^[\t\x20-\x7e]*$/;
const LINE_LIMIT = 998;
const QP_LINE = 76; // RFC 2045 §6.7 rule 5
const BASE64_LINE = 76; // RFC 2045 §6.8

export type TextEncoding = "7bit" | "quoted-printable";

/** Line breaks of any kind become CRLF, the canonical form of text (RFC 2046 §4.1.1). */
export function encodeTextBody(text: string): { encoding: TextEncoding; data: string } {
  const lines = text.split(/\r\n|\r|\n/);
  if (lines.every((line) => line.length <= LINE_LIMIT && SEVEN_BIT_LINE.test(line))) {
    return { encoding: "7bit", data: lines.join("\r\n") };
  }
  return {
    encoding: "quoted-printable",
    data: lines.flatMap((line) => quotedPrintableLine(line)).join("\r\n"),
  };
}

function quotedPrintableLine(line: string): string[] {
  const bytes = encoder.encode(line);
  const out: string[] = [];
  let current = "";
  bytes.forEach((byte, index) => {
    const last = index === bytes.length - 1;
    // literal: printable ASCII except '='; SP/TAB only when not at the end of a line (rule 3)
    const literal = (byte >= 33 && byte <= 126 && byte !== 61) || ((byte === 32 || byte === 9) && !last);
    const token = literal
      ? String.fromCharCode(byte)
      : `=${byte.toString(16).toUpperCase().padStart(2, "0")}`;
    if (current.length + token.length > QP_LINE - 1) {
      out.push(`${current}=`); // soft line break (rule 5)
      current = "";
    }
    current += token;
  });
  out.push(current);
  return out;
}

export function encodeBase64Body(bytes: Uint8Array): string {
  const base64 = bytesToBase64(bytes);
  const lines: string[] = [];
  for (let i = 0; i < base64.length; i += BASE64_LINE) lines.push(base64.slice(i, i + BASE64_LINE));
  return lines.join("\r\n");
}

/**
 * Standard base64 (RFC 4648 §4) as clients send attachments: whitespace and line breaks ignored,
 * padding optional. null when it is not base64 (base64url included: its alphabet differs).
 */
export function decodeBase64(text: string): Uint8Array | null {
  try {
    return base64ToBytes(text);
  } catch {
    return null;
  }
}
