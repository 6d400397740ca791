// Attacks on the message path: header injection through every JSON field, and what the composed
// and raw messages look like when the content is hostile but legal.
import { describe, expect, it } from "vitest";
import { composeMessage } from "./compose.ts";
import { prepareRawMessage } from "./raw.ts";
import { parseSubmission, type Submission } from "./submission-schema.ts";

const base = { from: "Alice <alice@example.com>", to: ["bob@example.net"], subject: "Hi", text: "Hello" };

function errors(json: unknown) {
  const result = parseSubmission(json);
  if (result.ok) throw new Error("expected errors, got ok");
  return result.errors;
}
function ok(json: unknown): Submission {
  const result = parseSubmission(json);
  if (!result.ok) throw new Error(JSON.stringify(result.errors));
  return result.value;
}
/** The names of the fields in the top-level header section of a composed message. */
function headerNames(bytes: Uint8Array): string[] {
  const text = new TextDecoder().decode(bytes);
  const head = text.slice(0, text.indexOf("\r\n\r\n"));
  return head
    .split("\r\n")
    .filter((line) => !/^[ \t]/.test(line))
    .map((line) => line.slice(0, line.indexOf(":")));
}

describe("parseSubmission: header injection", () => {
  const payloads = [
    { name: "CR", value: "\r" },
    { name: "LF", value: "\n" },
    { name: "CRLF + Bcc", value: "\r\nBcc: victim@example.org" },
    { name: "LF + Bcc", value: "\nBcc: victim@example.org" },
    { name: "NUL", value: "\u0000" },
    { name: "DEL", value: "\u007f" },
    { name: "NEL (U+0085)", value: "\u0085" },
    { name: "LINE SEPARATOR (U+2028)", value: "\u2028Bcc: victim@example.org" },
    { name: "PARAGRAPH SEPARATOR (U+2029)", value: "\u2029" },
    { name: "unpaired surrogate", value: "\ud800" },
  ];
  // where each payload is injected, the field the error must name, and its enhanced status
  const targets: { name: string; body: (p: string) => unknown; field: string; enhanced: string }[] = [
    { name: "subject", body: (p) => ({ ...base, subject: `Hi${p}` }), field: "subject", enhanced: "5.6.0" },
    {
      name: "from name (string)",
      body: (p) => ({ ...base, from: `Al${p}ice <a@example.com>` }),
      field: "from",
      enhanced: "5.1.7",
    },
    {
      name: "from name (object)",
      body: (p) => ({ ...base, from: { email: "a@example.com", name: `Al${p}` } }),
      field: "from.name",
      enhanced: "5.1.7",
    },
    {
      name: "from email (object)",
      body: (p) => ({ ...base, from: { email: `a@example.com${p}` } }),
      field: "from.email",
      enhanced: "5.1.7",
    },
    {
      name: "to (string)",
      body: (p) => ({ ...base, to: [`b@example.net${p}`] }),
      field: "to[0]",
      enhanced: "5.1.3",
    },
    {
      name: "to name (object)",
      body: (p) => ({ ...base, to: ["ok@example.net", { email: "b@example.net", name: `B${p}` }] }),
      field: "to[1].name",
      enhanced: "5.1.3",
    },
    {
      name: "cc",
      body: (p) => ({ ...base, cc: [`C${p} <c@example.net>`] }),
      field: "cc[0]",
      enhanced: "5.1.3",
    },
    {
      name: "bcc",
      body: (p) => ({ ...base, bcc: [`d@example.net${p}`] }),
      field: "bcc[0]",
      enhanced: "5.1.3",
    },
    {
      name: "reply_to",
      body: (p) => ({ ...base, reply_to: `r${p}@example.net` }),
      field: "reply_to[0]",
      enhanced: "5.1.3",
    },
    {
      name: "header value",
      body: (p) => ({ ...base, headers: { "X-Campaign": `spring${p}` } }),
      field: "headers.X-Campaign",
      enhanced: "5.6.0",
    },
    {
      name: "header name",
      body: (p) => ({ ...base, headers: { [`X-A${p}`]: "v" } }),
      field: "headers.X-A",
      enhanced: "5.6.0",
    },
    {
      name: "Sender header",
      body: (p) => ({ ...base, headers: { Sender: `s@example.com${p}` } }),
      field: "headers.Sender",
      enhanced: "5.1.7",
    },
    {
      name: "attachment filename",
      body: (p) => ({ ...base, attachments: [{ filename: `a${p}.pdf`, content: "" }] }),
      field: "attachments[0].filename",
      enhanced: "5.6.0",
    },
    {
      name: "attachment content_type",
      body: (p) => ({
        ...base,
        attachments: [{ filename: "a.pdf", content: "", content_type: `application/pdf${p}` }],
      }),
      field: "attachments[0].content_type",
      enhanced: "5.6.0",
    },
  ];
  for (const target of targets) {
    for (const payload of payloads) {
      it(`refuses ${payload.name} in ${target.name}`, () => {
        const found = errors(target.body(payload.value));
        expect(found).toHaveLength(1);
        // the header-name case reports the whole key, which starts with the field shown
        expect(found[0]!.field.startsWith(target.field)).toBe(true);
        expect(found[0]!.enhanced).toBe(target.enhanced);
      });
    }
  }

  it("says what the character was", () => {
    expect(errors({ ...base, subject: "a\r\nBcc: v@x" })[0]).toEqual({
      field: "subject",
      message: "contains a line break (U+000D)",
      enhanced: "5.6.0",
    });
    expect(errors({ ...base, subject: "a\u2028" })[0]!.message).toBe(
      "contains a Unicode line separator (U+2028)",
    );
  });

  it("refuses TAB where RFC 5322 has no WSP: names, addresses, filenames", () => {
    expect(errors({ ...base, from: "A\tB <a@example.com>" })[0]!.field).toBe("from");
    expect(errors({ ...base, attachments: [{ filename: "a\tb", content: "" }] })[0]!.field).toBe(
      "attachments[0].filename",
    );
  });
});

describe("composed messages with hostile but legal content", () => {
  const STANDARD = ["Date", "From", "To", "Message-ID", "Subject", "MIME-Version", "Content-Type"];

  it("keeps header-looking text in the body, in the body", () => {
    const sub = ok({
      ...base,
      text: "hi\r\nBcc: victim@example.org\n\nX-Injected: yes\r\n.\r\nMAIL FROM:<evil@example.org>",
      html: "<p>\r\n\r\nContent-Type: text/evil</p>",
    });
    const composed = composeMessage(sub, { hostname: "mx.example.org" });
    expect(headerNames(composed.bytes)).toEqual(STANDARD);
    expect(composed.envelope.recipients).toEqual(["bob@example.net"]);
    // every line break in the output is CRLF: nothing for a lenient parser to split differently
    const bytes = composed.bytes;
    bytes.forEach((byte, i) => {
      if (byte === 0x0a) expect(bytes[i - 1]).toBe(0x0d);
      if (byte === 0x0d) expect(bytes[i + 1]).toBe(0x0a);
    });
  });

  it("quotes a display name crafted to close the quote and add a second address", () => {
    const sub = ok({ ...base, from: { email: "alice@example.com", name: 'x" <evil@example.org>, "y' } });
    const text = new TextDecoder().decode(composeMessage(sub, { hostname: "mx.example.org" }).bytes);
    expect(text).toContain('From: "x\\" <evil@example.org>, \\"y" <alice@example.com>\r\n');
  });

  it("does not let a subject pretend to be an encoded header break", () => {
    const encodedBreak = `=?UTF-8?B?${btoa("x\r\nBcc: victim@example.org")}?=`;
    const sub = ok({ ...base, subject: encodedBreak });
    const composed = composeMessage(sub, { hostname: "mx.example.org" });
    expect(headerNames(composed.bytes)).toEqual([...STANDARD, "Content-Transfer-Encoding"]); // single part
    // re-encoded, so a decoder shows the literal text the client sent rather than a line break
    expect(new TextDecoder().decode(composed.bytes)).not.toContain(`Subject: ${encodedBreak}`);
  });

  it("cannot reach Bcc or MIME headers through headers{} under any spelling", () => {
    for (const name of ["BCC", "bCc", "Content-type", "MIME-VERSION"]) {
      expect(errors({ ...base, headers: { [name]: "x" } })[0]!.field).toBe(`headers.${name}`);
    }
  });
});

describe("raw messages: SMTP smuggling shapes", () => {
  const encode = (text: string) => new TextEncoder().encode(text);
  const LIMIT = { maxSize: 1_000_000 };

  it("turns <LF>.<LF> into <CRLF>.<CRLF>, which the SMTP client then dot-stuffs like any other", () => {
    const result = prepareRawMessage(encode("Subject: x\r\n\r\nhi\n.\nMAIL FROM:<e@x>\r\n"), LIMIT);
    if (!result.ok) throw new Error(result.reason);
    expect(new TextDecoder().decode(result.bytes)).toBe("Subject: x\r\n\r\nhi\r\n.\r\nMAIL FROM:<e@x>\r\n");
  });

  for (const sequence of ["\r.\r", "\r\n.\r", "\r.\r\n"]) {
    it(`refuses ${JSON.stringify(sequence)}: a bare CR has no faithful repair`, () => {
      const result = prepareRawMessage(encode(`Subject: x\r\n\r\nhi${sequence}MAIL FROM:<e@x>\r\n`), LIMIT);
      expect(result).toMatchObject({ ok: false, enhanced: "5.6.0" });
    });
  }
});
