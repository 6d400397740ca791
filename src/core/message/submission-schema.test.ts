import { describe, expect, it } from "vitest";
import { parseSubmission, type Submission } from "./submission-schema.ts";

const base = { from: "Alice <alice@example.com>", to: ["bob@example.net"], subject: "Hi", text: "Hello" };
const b64 = (bytes: number[]) => btoa(String.fromCharCode(...bytes));

function ok(json: unknown): Submission {
  const result = parseSubmission(json);
  if (!result.ok) throw new Error(`expected ok, got ${JSON.stringify(result.errors)}`);
  return result.value;
}
function errors(json: unknown) {
  const result = parseSubmission(json);
  if (result.ok) throw new Error("expected errors, got ok");
  return result.errors;
}

describe("parseSubmission: accepted input", () => {
  it("normalizes a minimal submission", () => {
    expect(ok(base)).toEqual({
      from: { email: "alice@example.com", name: "Alice" },
      to: [{ email: "bob@example.net" }],
      cc: [],
      bcc: [],
      replyTo: [],
      subject: "Hi",
      text: "Hello",
      headers: [],
      attachments: [],
    });
  });

  const addressForms = [
    { name: "bare address", input: "bob@example.net", want: { email: "bob@example.net" } },
    {
      name: "name-addr",
      input: "Bob Smith <bob@example.net>",
      want: { email: "bob@example.net", name: "Bob Smith" },
    },
    { name: "angle brackets only", input: "<bob@example.net>", want: { email: "bob@example.net" } },
    {
      name: "quoted name with escapes",
      input: '"Smith, Bob \\"B\\"" <bob@example.net>',
      want: { email: "bob@example.net", name: 'Smith, Bob "B"' },
    },
    { name: "surrounding whitespace", input: "  bob@example.net ", want: { email: "bob@example.net" } },
    {
      name: "object",
      input: { email: "bob@example.net", name: "Bob" },
      want: { email: "bob@example.net", name: "Bob" },
    },
    {
      name: "object, empty name",
      input: { email: "bob@example.net", name: "" },
      want: { email: "bob@example.net" },
    },
    {
      name: "non-ASCII name",
      input: "Zoë <zoe@example.net>",
      want: { email: "zoe@example.net", name: "Zoë" },
    },
    { name: "UTF-8 address (RFC 6531)", input: "用户@例子.广告", want: { email: "用户@例子.广告" } },
  ];
  for (const { name, input, want } of addressForms) {
    it(`reads an address: ${name}`, () => expect(ok({ ...base, to: [input] }).to).toEqual([want]));
  }

  it("takes reply_to as one address or a list", () => {
    expect(ok({ ...base, reply_to: "r@example.com" }).replyTo).toEqual([{ email: "r@example.com" }]);
    expect(ok({ ...base, reply_to: ["r@example.com", { email: "s@example.com" }] }).replyTo).toHaveLength(2);
  });

  it("accepts cc-only and bcc-only submissions", () => {
    expect(ok({ ...base, to: undefined, cc: ["c@example.com"] }).cc).toHaveLength(1);
    expect(ok({ ...base, to: undefined, bcc: ["d@example.com"] }).bcc).toHaveLength(1);
  });

  it("accepts html only, and attachments only", () => {
    expect(ok({ ...base, text: undefined, html: "<p>x</p>" }).html).toBe("<p>x</p>");
    const attachmentOnly = ok({
      ...base,
      text: undefined,
      attachments: [{ filename: "a.bin", content: "" }],
    });
    expect(attachmentOnly.text).toBeUndefined();
    expect(attachmentOnly.attachments).toHaveLength(1);
  });

  it("decodes attachments (whitespace and line breaks allowed) and defaults the type", () => {
    const bytes = [0, 1, 2, 250, 251, 252, 253, 254, 255];
    const wrapped = b64(bytes).replace(/(.{4})/g, "$1\r\n");
    const sub = ok({ ...base, attachments: [{ filename: "x.bin", content: wrapped }] });
    expect(sub.attachments[0]).toEqual({
      filename: "x.bin",
      contentType: "application/octet-stream",
      content: new Uint8Array(bytes),
    });
  });

  it("keeps a media type with parameters", () => {
    const sub = ok({
      ...base,
      attachments: [{ filename: "a.txt", content: "", content_type: 'text/plain; charset="utf-8"' }],
    });
    expect(sub.attachments[0]!.contentType).toBe('text/plain; charset="utf-8"');
  });

  it("separates Date, Message-ID and Sender from the other headers", () => {
    const sub = ok({
      ...base,
      headers: {
        "X-Campaign": "spring",
        date: "Tue, 1 Jul 2025 09:00:00 +0200",
        "Message-Id": "<abc.123@example.com>",
        Sender: "Mailer <mailer@example.com>",
        "List-Unsubscribe": "<https://example.com/u>",
        "In-Reply-To": "<x@y>",
        References: "<x@y> <z@y>",
      },
    });
    expect(sub.date).toBe("Tue, 1 Jul 2025 09:00:00 +0200");
    expect(sub.messageId).toBe("<abc.123@example.com>");
    expect(sub.sender).toEqual({ email: "mailer@example.com", name: "Mailer" });
    expect(sub.headers.map((h) => h.name)).toEqual([
      "X-Campaign",
      "List-Unsubscribe",
      "In-Reply-To",
      "References",
    ]);
  });

  it("allows TAB in the subject and header values", () => {
    const sub = ok({ ...base, subject: "a\tb", headers: { "X-Tab": "c\td" } });
    expect(sub.subject).toBe("a\tb");
    expect(sub.headers).toEqual([{ name: "X-Tab", value: "c\td" }]);
  });

  it("allows non-ASCII text in X-* and Comments headers", () => {
    expect(ok({ ...base, headers: { "X-Tag": "café", Comments: "naïve" } }).headers).toHaveLength(2);
  });

  it("leaves text and html bodies alone (they are encoded, not put in headers)", () => {
    expect(ok({ ...base, text: "line\r\nBcc: x@y\u2028\u0000" }).text).toBe("line\r\nBcc: x@y\u2028\u0000");
  });
});

describe("parseSubmission: headers{}", () => {
  const reserved = [
    "From",
    "to",
    "CC",
    "Bcc",
    "bcc",
    "Reply-To",
    "SUBJECT",
    "MIME-Version",
    "Content-Type",
    "content-transfer-encoding",
    "Content-Disposition",
    "Received",
    "Return-Path",
    "Delivered-To",
  ];
  for (const name of reserved) {
    it(`refuses ${name}`, () => {
      const found = errors({ ...base, headers: { [name]: "x@example.com" } });
      expect(found).toEqual([
        { field: `headers.${name}`, message: expect.stringContaining(name), enhanced: "5.6.0" },
      ]);
    });
  }

  const badNames = ["X Foo", "X:Foo", "", "Ünicode", "X-\u007f", "X".repeat(77)];
  for (const name of badNames) {
    it(`refuses header name ${JSON.stringify(name.slice(0, 20))}`, () => {
      expect(errors({ ...base, headers: { [name]: "v" } })[0]!.message).toMatch(/RFC 5322 §2.2/);
    });
  }

  const badValues = [
    { name: "Date", value: "yesterday" },
    { name: "Date", value: "2025-07-01T09:00:00Z" },
    { name: "Date", value: "Tue, 1 Jul 2025 25:00:00 +0000" },
    { name: "Message-ID", value: "no-brackets@example.com" },
    { name: "Message-ID", value: "<two@at@example.com>" },
    { name: "Message-ID", value: "<a b@example.com>" },
    { name: "List-Unsubscribe", value: "<https://exämple.com>" },
    { name: "References", value: `<${"a".repeat(1000)}@example.com>` },
  ];
  for (const { name, value } of badValues) {
    it(`refuses ${name}: ${value.slice(0, 40)}`, () => {
      expect(errors({ ...base, headers: { [name]: value } })).toEqual([
        { field: `headers.${name}`, message: expect.any(String), enhanced: "5.6.0" },
      ]);
    });
  }

  it("refuses a bad Sender address with 5.1.7", () => {
    expect(errors({ ...base, headers: { Sender: "not an address" } })).toEqual([
      { field: "headers.Sender", message: expect.any(String), enhanced: "5.1.7" },
    ]);
  });

  it("refuses the same header twice in different case", () => {
    expect(errors({ ...base, headers: { "X-A": "1", "x-a": "2" } })).toEqual([
      { field: "headers.x-a", message: "duplicate header (names are case-insensitive)", enhanced: "5.6.0" },
    ]);
  });

  it("refuses Date twice in different case", () => {
    const date = "Tue, 1 Jul 2025 09:00:00 +0000";
    expect(errors({ ...base, headers: { Date: date, date } })[0]!.field).toBe("headers.date");
  });
});

describe("parseSubmission: addresses and structure", () => {
  const cases: { name: string; body: unknown; want: { field: string; enhanced: string }[] }[] = [
    { name: "bad sender", body: { ...base, from: "alice" }, want: [{ field: "from", enhanced: "5.1.7" }] },
    {
      name: "bad recipient",
      body: { ...base, to: ["ok@example.net", "bob@"] },
      want: [{ field: "to[1]", enhanced: "5.1.3" }],
    },
    {
      name: "bad recipient (object)",
      body: { ...base, to: [{ email: "bob@@example.net" }] },
      want: [{ field: "to[0].email", enhanced: "5.1.3" }],
    },
    {
      name: "unclosed angle",
      body: { ...base, cc: ["Bob <bob@example.net"] },
      want: [{ field: "cc[0]", enhanced: "5.1.3" }],
    },
    {
      name: "bad reply_to",
      body: { ...base, reply_to: ["x"] },
      want: [{ field: "reply_to[0]", enhanced: "5.1.3" }],
    },
    {
      name: "two addresses in one string",
      body: { ...base, to: ["a@x.com, b@y.com"] },
      want: [{ field: "to[0]", enhanced: "5.1.3" }],
    },
    {
      name: "no recipients",
      body: { ...base, to: [], cc: [], bcc: [] },
      want: [{ field: "to", enhanced: "5.5.1" }],
    },
    { name: "no body", body: { ...base, text: undefined }, want: [{ field: "text", enhanced: "5.5.2" }] },
    {
      name: "missing from",
      body: { ...base, from: undefined },
      want: [{ field: "from", enhanced: "5.5.2" }],
    },
    {
      name: "missing subject",
      body: { ...base, subject: undefined },
      want: [{ field: "subject", enhanced: "5.5.2" }],
    },
    {
      name: "wrong type",
      body: { ...base, to: "bob@example.net" },
      want: [{ field: "to", enhanced: "5.5.2" }],
    },
    { name: "number as address", body: { ...base, to: [42] }, want: [{ field: "to[0]", enhanced: "5.5.2" }] },
    {
      name: "unknown field",
      body: { ...base, attachements: [] },
      want: [{ field: "attachements", enhanced: "5.5.2" }],
    },
    {
      name: "unknown address property",
      body: { ...base, to: [{ email: "b@example.net", display: "B" }] },
      want: [{ field: "to[0].display", enhanced: "5.5.2" }],
    },
    { name: "not an object", body: "hello", want: [{ field: "body", enhanced: "5.5.2" }] },
    { name: "null", body: null, want: [{ field: "body", enhanced: "5.5.2" }] },
    {
      name: "attachment not base64",
      body: { ...base, attachments: [{ filename: "a", content: "not base64!" }] },
      want: [{ field: "attachments[0].content", enhanced: "5.6.0" }],
    },
    {
      name: "attachment base64url",
      body: { ...base, attachments: [{ filename: "a", content: "_-8=" }] },
      want: [{ field: "attachments[0].content", enhanced: "5.6.0" }],
    },
    {
      name: "attachment bad length",
      body: { ...base, attachments: [{ filename: "a", content: "QUJDR" }] },
      want: [{ field: "attachments[0].content", enhanced: "5.6.0" }],
    },
    {
      name: "empty filename",
      body: { ...base, attachments: [{ filename: "", content: "" }] },
      want: [{ field: "attachments[0].filename", enhanced: "5.6.0" }],
    },
    {
      name: "filename over 255 octets",
      body: { ...base, attachments: [{ filename: `${"é".repeat(128)}.txt`, content: "" }] },
      want: [{ field: "attachments[0].filename", enhanced: "5.6.0" }],
    },
    {
      name: "media type without subtype",
      body: { ...base, attachments: [{ filename: "a", content: "", content_type: "application" }] },
      want: [{ field: "attachments[0].content_type", enhanced: "5.6.0" }],
    },
    {
      name: "multipart attachment",
      body: {
        ...base,
        attachments: [{ filename: "a", content: "", content_type: "multipart/mixed; boundary=x" }],
      },
      want: [{ field: "attachments[0].content_type", enhanced: "5.6.0" }],
    },
    {
      name: "message/rfc822 attachment (no base64 allowed)",
      body: { ...base, attachments: [{ filename: "a.eml", content: "", content_type: "message/rfc822" }] },
      want: [{ field: "attachments[0].content_type", enhanced: "5.6.0" }],
    },
  ];
  for (const { name, body, want } of cases) {
    it(name, () => {
      expect(errors(body)).toEqual(want.map((w) => ({ ...w, message: expect.any(String) })));
    });
  }

  it("reports every bad field, not just the first", () => {
    const found = errors({ ...base, from: "x", to: ["y"], subject: "a\nb" });
    expect(found.map((e) => e.field).sort()).toEqual(["from", "subject", "to[0]"]);
  });

  it("says 'is required' for a missing field and 'unknown field' for an extra one", () => {
    expect(errors({ ...base, subject: undefined })[0]!.message).toBe("is required");
    expect(errors({ ...base, extra: 1 })[0]!.message).toBe("unknown field");
  });
});

describe("parseSubmission: header names that are Object.prototype keys", () => {
  for (const name of ["constructor", "toString", "hasOwnProperty"]) {
    it(`treats ${name} as an ordinary header`, () => {
      const result = parseSubmission({ ...base, headers: JSON.parse(`{"${name}": "v"}`) });
      expect(result).toMatchObject({ ok: true, value: { headers: [{ name, value: "v" }] } });
    });
  }
});
