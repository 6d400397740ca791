import { describe, expect, it } from "vitest";
import { prepareRawMessage } from "./raw.ts";

const encode = (text: string) => new TextEncoder().encode(text);
const LIMIT = { maxSize: 10_000_000 };

const VALID =
  "From: Alice <alice@example.com>\r\n" +
  "To: bob@example.net\r\n" +
  "Subject: a folded\r\n" +
  "\tsubject\r\n" +
  "Message-ID: <abc.123@example.com>\r\n" +
  "\r\n" +
  "Body line 1\r\n" +
  ".leading dot stays as is (dot-stuffing is the SMTP client's job)\r\n";

describe("prepareRawMessage", () => {
  it("passes a valid CRLF message through byte for byte", () => {
    const bytes = encode(VALID);
    const result = prepareRawMessage(bytes, LIMIT);
    expect(result).toEqual({ ok: true, bytes, messageId: "<abc.123@example.com>", eightBit: false });
    if (result.ok) expect(result.bytes).toBe(bytes); // not even copied
  });

  it("passes odd but legal bytes untouched: trailing whitespace, no final CRLF, 8-bit body", () => {
    const text = "Subject: x  \r\n\r\nGr\u00fc\u00dfe\t \r\nno final newline";
    const bytes = encode(text);
    const result = prepareRawMessage(bytes, LIMIT);
    expect(result).toMatchObject({ ok: true, messageId: null, eightBit: true });
    if (result.ok) expect(new TextDecoder().decode(result.bytes)).toBe(text);
  });

  it("reports 8-bit bytes in headers (RFC 6532) too", () => {
    expect(prepareRawMessage(encode("Subject: Gr\u00fc\u00dfe\r\n\r\nx\r\n"), LIMIT)).toMatchObject({
      eightBit: true,
    });
  });

  it("converts bare LF to CRLF and changes nothing else", () => {
    const result = prepareRawMessage(encode(VALID.replace(/\r\n/g, "\n")), LIMIT);
    expect(result.ok).toBe(true);
    if (result.ok) expect(new TextDecoder().decode(result.bytes)).toBe(VALID);
  });

  it("converts mixed line ends, leaving existing CRLF alone", () => {
    const result = prepareRawMessage(encode("Subject: x\n\r\nline\nline2\r\n"), LIMIT);
    if (!result.ok) throw new Error(result.reason);
    expect(new TextDecoder().decode(result.bytes)).toBe("Subject: x\r\n\r\nline\r\nline2\r\n");
  });

  it("recognizes the end of the header section after LF conversion (SMTP smuggling shape)", () => {
    const result = prepareRawMessage(encode("Subject: x\n\nbody\n.\nMAIL FROM:<evil@example.com>\n"), LIMIT);
    if (!result.ok) throw new Error(result.reason);
    expect(new TextDecoder().decode(result.bytes)).toBe(
      "Subject: x\r\n\r\nbody\r\n.\r\nMAIL FROM:<evil@example.com>\r\n",
    );
  });

  const refused = [
    { name: "bare CR in the body", input: "Subject: x\r\n\r\nab\rcd\r\n", reason: /bare CR/ },
    { name: "bare CR at the end", input: "Subject: x\r\n\r\nab\r", reason: /bare CR/ },
    { name: "CR CR LF", input: "Subject: x\r\r\n\r\nbody\r\n", reason: /bare CR/ },
    {
      name: "bare CR in a header (header injection shape)",
      input: "Subject: x\rBcc: v@x\r\n\r\n",
      reason: /bare CR/,
    },
    { name: "NUL", input: "Subject: x\r\n\r\na\u0000b\r\n", reason: /NUL/ },
    { name: "no header section", input: "\r\njust a body\r\n", reason: /no header section/ },
    { name: "empty message", input: "", reason: /no header section/ },
    {
      name: "not a header field",
      input: "Hello there\r\n\r\nbody\r\n",
      reason: /line 1 is not a header field/,
    },
    {
      name: "mbox From_ line",
      input: "From alice@example.com Tue Jul  1 09:00:00 2025\nSubject: x\n\n",
      reason: /not a header field/,
    },
    { name: "field without a name", input: ": value\r\n\r\n", reason: /not a header field/ },
    { name: "bad field in line 2", input: "Subject: x\r\nnot a field\r\n\r\n", reason: /line 2/ },
    { name: "starts with a continuation", input: " folded\r\nSubject: x\r\n\r\n", reason: /continuation/ },
  ];
  for (const { name, input, reason } of refused) {
    it(`refuses ${name} with 5.6.0`, () => {
      const result = prepareRawMessage(encode(input), LIMIT);
      expect(result).toEqual({ ok: false, reason: expect.stringMatching(reason), enhanced: "5.6.0" });
    });
  }

  it("allows a line of exactly 998 octets and refuses 999, counting octets not characters", () => {
    const at = prepareRawMessage(encode(`Subject: x\r\n\r\n${"a".repeat(998)}\r\n`), LIMIT);
    expect(at.ok).toBe(true);
    const over = prepareRawMessage(encode(`Subject: x\r\n\r\n${"a".repeat(999)}\r\n`), LIMIT);
    expect(over).toEqual({
      ok: false,
      reason: "message line 3 is longer than 998 octets",
      enhanced: "5.6.0",
    });
    // 500 two-octet characters are 1000 octets
    const wide = prepareRawMessage(encode(`Subject: x\r\n\r\n${"\u00e9".repeat(500)}\r\n`), LIMIT);
    expect(wide).toMatchObject({ ok: false, enhanced: "5.6.0" });
  });

  it("refuses a long header line too, and a long last line without a newline", () => {
    expect(prepareRawMessage(encode(`X-Long: ${"a".repeat(995)}\r\n\r\n`), LIMIT)).toMatchObject({
      ok: false,
    });
    expect(prepareRawMessage(encode(`Subject: x\r\n\r\n${"a".repeat(999)}`), LIMIT)).toMatchObject({
      ok: false,
    });
  });

  it("refuses a message over maxSize with 5.3.4, and accepts one at it", () => {
    const bytes = encode(VALID);
    expect(prepareRawMessage(bytes, { maxSize: bytes.length })).toMatchObject({ ok: true });
    expect(prepareRawMessage(bytes, { maxSize: bytes.length - 1 })).toEqual({
      ok: false,
      reason: "Message size exceeds fixed limit",
      enhanced: "5.3.4",
    });
  });

  it("counts the CRs added by LF conversion against maxSize", () => {
    const lf = encode("Subject: x\n\nbody\n");
    expect(prepareRawMessage(lf, { maxSize: lf.length })).toMatchObject({ ok: false, enhanced: "5.3.4" });
    expect(prepareRawMessage(lf, { maxSize: lf.length + 3 })).toMatchObject({ ok: true });
  });

  const ids = [
    { name: "plain", header: "Message-ID: <a@b>", want: "<a@b>" },
    { name: "any case, extra space", header: "message-id:    <a.b@c.d>  ", want: "<a.b@c.d>" },
    {
      name: "folded onto the next line",
      header: "Message-Id:\r\n <folded@example.com>",
      want: "<folded@example.com>",
    },
    { name: "with a comment", header: "Message-ID: (generated) <x@y>", want: "<x@y>" },
    { name: "obsolete space before the colon", header: "Message-ID : <x@y>", want: "<x@y>" },
    { name: "malformed", header: "Message-ID: no-brackets@example.com", want: null },
    { name: "absent", header: "X-Message-ID: <x@y>", want: null },
  ];
  for (const { name, header, want } of ids) {
    it(`extracts Message-ID: ${name}`, () => {
      const result = prepareRawMessage(encode(`Subject: x\r\n${header}\r\n\r\nbody\r\n`), LIMIT);
      expect(result).toMatchObject({ ok: true, messageId: want });
    });
  }

  it("takes the first Message-ID and ignores Message-ID-like text in the body", () => {
    const result = prepareRawMessage(
      encode("Message-ID: <first@x>\r\nMessage-ID: <second@x>\r\n\r\nMessage-ID: <body@x>\r\n"),
      LIMIT,
    );
    expect(result).toMatchObject({ messageId: "<first@x>" });
    const bodyOnly = prepareRawMessage(encode("Subject: x\r\n\r\nMessage-ID: <body@x>\r\n"), LIMIT);
    expect(bodyOnly).toMatchObject({ messageId: null });
  });

  it("accepts a header-only message (no empty line, no body)", () => {
    expect(prepareRawMessage(encode("Subject: x\r\nFrom: a@b"), LIMIT)).toMatchObject({ ok: true });
  });
});
