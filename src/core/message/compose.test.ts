import { describe, expect, it } from "vitest";
import { type ComposedMessage, composeMessage } from "./compose.ts";
import { parseSubmission, type Submission } from "./submission-schema.ts";

// --- a small, independent MIME reader for the assertions ---------------------------------------

interface Entity {
  /** unfolded fields, in order */
  fields: [string, string][];
  body: string;
}

function readEntity(text: string): Entity {
  const split = text.indexOf("\r\n\r\n");
  const head = split < 0 ? text : text.slice(0, split);
  const body = split < 0 ? "" : text.slice(split + 4);
  const fields = head
    .replace(/\r\n(?=[ \t])/g, "") // RFC 5322 §2.2.3 unfolding
    .split("\r\n")
    .map((line): [string, string] => {
      const colon = line.indexOf(":");
      return [line.slice(0, colon), line.slice(colon + 1).replace(/^ /, "")];
    });
  return { fields, body };
}

const field = (entity: Entity, name: string) =>
  entity.fields.filter(([n]) => n.toLowerCase() === name.toLowerCase()).map(([, v]) => v);
const one = (entity: Entity, name: string) => {
  const values = field(entity, name);
  expect(values, name).toHaveLength(1);
  return values[0]!;
};

function parts(entity: Entity): Entity[] {
  const boundary = /boundary="?([^";\s]+)"?/.exec(one(entity, "Content-Type"))![1]!;
  const segments = entity.body.split(`--${boundary}`);
  expect(segments.at(-1)!.startsWith("--"), "closing delimiter").toBe(true);
  // each part sits between the CRLF after a delimiter and the CRLF that belongs to the next one
  return segments.slice(1, -1).map((segment) => readEntity(segment.slice(2, -2)));
}

const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/** RFC 2047 B-encoded words, decoded word by word (a split character would throw). */
function decodeWords(value: string): string {
  return value
    .replace(/(\?=)\s+(?==\?)/g, "$1")
    .replace(/=\?UTF-8\?B\?([^?]*)\?=/gi, (_, b64: string) => utf8.decode(bytesOf(atob(b64))));
}

function decodeQuotedPrintable(data: string): string {
  const binary = data
    .replace(/=\r\n/g, "")
    .replace(/=([0-9A-F]{2})/g, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)));
  return utf8.decode(bytesOf(binary));
}

const bytesOf = (binary: string) => Uint8Array.from(binary, (c) => c.charCodeAt(0));
const text = (composed: ComposedMessage) => new TextDecoder().decode(composed.bytes);

// --- fixtures ----------------------------------------------------------------------------------

function submission(json: Record<string, unknown>): Submission {
  const result = parseSubmission({
    from: "Alice <alice@example.com>",
    to: ["bob@example.net"],
    subject: "Hi",
    ...json,
  });
  if (!result.ok) throw new Error(JSON.stringify(result.errors));
  return result.value;
}
const NOW = new Date("2025-07-01T09:05:03Z");
const compose = (json: Record<string, unknown>) =>
  composeMessage(submission(json), { hostname: "mx.example.org", now: NOW });

function expectWellFormed(composed: ComposedMessage): void {
  const bytes = composed.bytes;
  let length = 0;
  for (let i = 0; i < bytes.length; i++) {
    if (bytes[i] === 0x0d) expect(bytes[i + 1], `CR at ${i} not followed by LF`).toBe(0x0a);
    if (bytes[i] === 0x0a) {
      expect(bytes[i - 1], `bare LF at ${i}`).toBe(0x0d);
      length = 0;
    } else if (bytes[i] !== 0x0d) {
      length += 1;
      expect(length, `line ending at ${i}`).toBeLessThanOrEqual(998);
    }
  }
  expect(bytes.at(-2)).toBe(0x0d);
  expect(bytes.at(-1)).toBe(0x0a);
}

// --- tests -------------------------------------------------------------------------------------

describe("composeMessage: headers", () => {
  it("writes the RFC 5322 header fields with generated Date and Message-ID", () => {
    const composed = compose({ text: "Hello" });
    const entity = readEntity(text(composed));
    expect(one(entity, "Date")).toBe("Tue, 01 Jul 2025 09:05:03 +0000");
    expect(one(entity, "From")).toBe("Alice <alice@example.com>");
    expect(one(entity, "To")).toBe("bob@example.net");
    expect(one(entity, "Subject")).toBe("Hi");
    expect(one(entity, "MIME-Version")).toBe("1.0");
    expect(one(entity, "Message-ID")).toMatch(/^<[0-9a-f]{32}@mx\.example\.org>$/);
    expect(composed.messageId).toBe(one(entity, "Message-ID"));
    expectWellFormed(composed);
  });

  it("uses messageIdDomain over the hostname, and fresh ids each time", () => {
    const sub = submission({ text: "x" });
    const a = composeMessage(sub, { hostname: "mx.example.org", messageIdDomain: "mail.example.com" });
    const b = composeMessage(sub, { hostname: "mx.example.org", messageIdDomain: "mail.example.com" });
    expect(a.messageId).toMatch(/@mail\.example\.com>$/);
    expect(a.messageId).not.toBe(b.messageId);
  });

  it("keeps Date and Message-ID from headers{} instead of generating them", () => {
    const composed = compose({
      text: "x",
      headers: { "message-id": "<kept@example.com>", DATE: "Mon, 30 Jun 2025 10:00:00 +0200" },
    });
    const entity = readEntity(text(composed));
    expect(field(entity, "Message-ID")).toEqual(["<kept@example.com>"]);
    expect(field(entity, "Date")).toEqual(["Mon, 30 Jun 2025 10:00:00 +0200"]);
    expect(composed.messageId).toBe("<kept@example.com>");
  });

  it("never writes Bcc, but puts the bcc recipients in the envelope", () => {
    const composed = compose({ text: "x", cc: ["Carol <carol@example.net>"], bcc: ["secret@example.org"] });
    const raw = text(composed);
    expect(raw).not.toMatch(/^bcc:/im);
    expect(raw).not.toContain("secret@example.org");
    expect(one(readEntity(raw), "Cc")).toBe("Carol <carol@example.net>");
    expect(composed.envelope).toEqual({
      mailFrom: "alice@example.com",
      recipients: ["bob@example.net", "carol@example.net", "secret@example.org"],
    });
  });

  it("writes no To when there are only bcc recipients", () => {
    const composed = compose({ to: [], bcc: ["b@example.org"], text: "x" });
    expect(field(readEntity(text(composed)), "To")).toEqual([]);
    expect(composed.envelope.recipients).toEqual(["b@example.org"]);
  });

  it("RFC 2047-encodes a non-ASCII subject, and the encoding round-trips", () => {
    const subject = "Grüße 🚀 aus Köln";
    const raw = text(compose({ subject, text: "x" }));
    const encoded = one(readEntity(raw), "Subject");
    expect(encoded).toMatch(/^=\?UTF-8\?B\?/);
    expect(raw).not.toContain("Grüße");
    expect(decodeWords(encoded)).toBe(subject);
  });

  it("splits a long non-ASCII subject into words of <= 75 chars on folded lines, whole characters each", () => {
    const subject = "Ünïcödé ✓ 🚀 ".repeat(200);
    const composed = compose({ subject, text: "x" });
    const raw = text(composed);
    const folded = /^Subject: .*?\r\n(?! )/ms.exec(raw)![0];
    for (const word of folded.match(/=\?[^?]+\?B\?[^?]*\?=/g)!) expect(word.length).toBeLessThanOrEqual(75);
    for (const line of folded.split("\r\n")) expect(line.length).toBeLessThanOrEqual(78 + 10);
    expect(decodeWords(one(readEntity(raw), "Subject"))).toBe(subject);
    expectWellFormed(composed);
  });

  it("leaves ASCII subjects readable and folds them at whitespace", () => {
    const subject = Array.from({ length: 60 }, (_, i) => `word${i}`).join(" ");
    const composed = compose({ subject, text: "x" });
    const raw = text(composed);
    expect(raw).toMatch(/^Subject: word0 word1 /m);
    expect(/^Subject: .*?\r\n(?! )/ms.exec(raw)![0].split("\r\n").length).toBeGreaterThan(3);
    expect(one(readEntity(raw), "Subject")).toBe(subject);
  });

  it("encodes an ASCII subject with no place to fold instead of writing a 998+ line", () => {
    const subject = "x".repeat(2000);
    const composed = compose({ subject, text: "x" });
    expectWellFormed(composed);
    expect(decodeWords(one(readEntity(text(composed)), "Subject"))).toBe(subject);
  });

  it("encodes ASCII text that looks like an encoded-word, so it arrives literally", () => {
    const subject = "=?UTF-8?B?SGk=?= literal";
    const encoded = one(readEntity(text(compose({ subject, text: "x" }))), "Subject");
    expect(encoded).not.toBe(subject);
    expect(decodeWords(encoded)).toBe(subject);
  });

  it("writes display names as atoms, quoted strings or encoded-words", () => {
    const entity = readEntity(
      text(
        compose({
          from: "Zoë Ünal <zoe@example.com>",
          to: ['"Smith, Bob \\"B\\"" <bob@example.net>', "Plain Name <p@example.net>", "bare@example.net"],
          text: "x",
        }),
      ),
    );
    expect(one(entity, "From")).toMatch(/^=\?UTF-8\?B\?.*\?= <zoe@example\.com>$/);
    expect(decodeWords(one(entity, "From"))).toBe("Zoë Ünal <zoe@example.com>");
    expect(one(entity, "To")).toBe(
      '"Smith, Bob \\"B\\"" <bob@example.net>, Plain Name <p@example.net>, bare@example.net',
    );
  });

  it("writes several Reply-To addresses and a Sender", () => {
    const entity = readEntity(
      text(
        compose({
          text: "x",
          reply_to: ["a@example.com", "B <b@example.com>"],
          headers: { Sender: "Mailer <mailer@example.com>" },
        }),
      ),
    );
    expect(one(entity, "Reply-To")).toBe("a@example.com, B <b@example.com>");
    expect(one(entity, "Sender")).toBe("Mailer <mailer@example.com>");
  });

  it("folds a long recipient list between addresses", () => {
    const to = Array.from({ length: 50 }, (_, i) => `Recipient ${i} <r${i}@example.net>`);
    const composed = compose({ to, text: "x" });
    const raw = text(composed);
    const folded = /^To: .*?\r\n(?! )/ms.exec(raw)![0];
    for (const line of folded.split("\r\n")) expect(line.length).toBeLessThanOrEqual(78);
    expect(one(readEntity(raw), "To").split(", ")).toEqual(to);
  });

  it("writes custom headers after the standard ones, folding long ones and encoding non-ASCII X-*", () => {
    const references = Array.from({ length: 20 }, (_, i) => `<message-${i}@example.com>`).join(" ");
    const entity = readEntity(
      text(
        compose({
          text: "x",
          headers: { "X-Campaign": "spring", References: references, "X-Tag": "café", "X-Empty": "" },
        }),
      ),
    );
    expect(one(entity, "X-Campaign")).toBe("spring");
    expect(one(entity, "References")).toBe(references);
    expect(one(entity, "X-Tag")).toMatch(/^=\?UTF-8\?B\?/);
    expect(decodeWords(one(entity, "X-Tag"))).toBe("café");
    expect(one(entity, "X-Empty")).toBe("");
    const names = entity.fields.map(([name]) => name);
    expect(names.indexOf("X-Campaign")).toBeGreaterThan(names.indexOf("MIME-Version"));
  });

  it("keeps non-ASCII (SMTPUTF8) addresses as UTF-8 in From/To", () => {
    const composed = compose({ to: ["用户@例子.广告"], text: "x" });
    expect(one(readEntity(text(composed)), "To")).toBe("用户@例子.广告");
    expect(composed.envelope.recipients).toEqual(["用户@例子.广告"]);
  });
});

describe("composeMessage: body structure", () => {
  it("sends text alone as a single text/plain part, lines converted to CRLF", () => {
    const composed = compose({ text: "line 1\nline 2\rline 3\r\n" });
    const entity = readEntity(text(composed));
    expect(one(entity, "Content-Type")).toBe("text/plain; charset=UTF-8");
    expect(one(entity, "Content-Transfer-Encoding")).toBe("7bit");
    expect(entity.body).toBe("line 1\r\nline 2\r\nline 3\r\n");
    expectWellFormed(composed);
  });

  it("quoted-printable-encodes non-ASCII and long-line text, and it decodes back", () => {
    const body = `Grüße, ${"lang ".repeat(300)}\nZeile 2 = zwei   \n.\n`;
    const composed = compose({ text: body });
    const entity = readEntity(text(composed));
    expect(one(entity, "Content-Transfer-Encoding")).toBe("quoted-printable");
    for (const line of entity.body.split("\r\n")) expect(line.length).toBeLessThanOrEqual(76);
    expect(decodeQuotedPrintable(entity.body).startsWith(body.replace(/\n/g, "\r\n"))).toBe(true);
    expectWellFormed(composed);
  });

  it("makes text + html a multipart/alternative, text first", () => {
    const composed = compose({ text: "plain", html: "<p>rich</p>" });
    const entity = readEntity(text(composed));
    expect(one(entity, "Content-Type")).toMatch(/^multipart\/alternative; boundary=postern-[0-9a-f]{24}$/);
    const [plain, rich, ...rest] = parts(entity);
    expect(rest).toEqual([]);
    expect(one(plain!, "Content-Type")).toBe("text/plain; charset=UTF-8");
    expect(plain!.body).toBe("plain\r\n");
    expect(one(rich!, "Content-Type")).toBe("text/html; charset=UTF-8");
    expect(rich!.body.startsWith("<p>rich</p>")).toBe(true);
    expectWellFormed(composed);
  });

  it("wraps attachments in multipart/mixed, and their base64 decodes to the same bytes", () => {
    const bytes = Uint8Array.from({ length: 5000 }, (_, i) => (i * 7 + 3) % 256);
    const composed = compose({
      text: "see attached",
      attachments: [{ filename: "data.bin", content: btoa(String.fromCharCode(...bytes)) }],
    });
    const entity = readEntity(text(composed));
    expect(one(entity, "Content-Type")).toMatch(/^multipart\/mixed; boundary=/);
    const [body, attachment, ...rest] = parts(entity);
    expect(rest).toEqual([]);
    expect(one(body!, "Content-Type")).toBe("text/plain; charset=UTF-8");
    expect(one(attachment!, "Content-Type")).toBe('application/octet-stream; name="data.bin"');
    expect(one(attachment!, "Content-Disposition")).toBe('attachment; filename="data.bin"');
    expect(one(attachment!, "Content-Transfer-Encoding")).toBe("base64");
    const lines = attachment!.body.split("\r\n");
    for (const line of lines) expect(line.length).toBeLessThanOrEqual(76);
    expect(bytesOf(atob(lines.join("")))).toEqual(bytes);
    expectWellFormed(composed);
  });

  it("nests multipart/alternative inside multipart/mixed for text + html + attachments", () => {
    const composed = compose({
      text: "plain",
      html: "<p>rich</p>",
      attachments: [
        { filename: "a.txt", content: btoa("first"), content_type: "text/plain" },
        { filename: "b.pdf", content: btoa("%PDF-1.7"), content_type: "application/pdf" },
      ],
    });
    const mixed = readEntity(text(composed));
    expect(one(mixed, "Content-Type")).toMatch(/^multipart\/mixed;/);
    const [alternative, first, second, ...rest] = parts(mixed);
    expect(rest).toEqual([]);
    expect(one(alternative!, "Content-Type")).toMatch(/^multipart\/alternative;/);
    expect(parts(alternative!).map((p) => one(p, "Content-Type"))).toEqual([
      "text/plain; charset=UTF-8",
      "text/html; charset=UTF-8",
    ]);
    expect(atob(first!.body.replace(/\r\n/g, ""))).toBe("first");
    expect(one(second!, "Content-Type")).toBe('application/pdf; name="b.pdf"');
    expect(atob(second!.body.replace(/\r\n/g, ""))).toBe("%PDF-1.7");
    expectWellFormed(composed);
  });

  it("sends attachments without text or html after an empty text part", () => {
    const mixed = readEntity(text(compose({ attachments: [{ filename: "a.bin", content: btoa("x") }] })));
    const [empty, attachment] = parts(mixed);
    expect(one(empty!, "Content-Type")).toBe("text/plain; charset=UTF-8");
    expect(empty!.body.trim()).toBe("");
    expect(atob(attachment!.body)).toBe("x");
  });

  it("keeps an attachment named like 'pipeline.pdf' an attachment (not inline/related)", () => {
    const raw = text(
      compose({ text: "x", attachments: [{ filename: "pipeline-inline.pdf", content: btoa("p") }] }),
    );
    expect(raw).not.toContain("multipart/related");
    const [, attachment, ...rest] = parts(readEntity(raw));
    expect(rest).toEqual([]);
    expect(one(attachment!, "Content-Disposition")).toBe('attachment; filename="pipeline-inline.pdf"');
    expect(raw.split('filename="pipeline-inline.pdf"')).toHaveLength(2); // once only
  });

  it("escapes quotes in filenames and uses RFC 2231 for non-ASCII ones", () => {
    const mixed = readEntity(
      text(
        compose({
          text: "x",
          attachments: [
            { filename: 'say "hi".txt', content: "" },
            { filename: "Prüfbericht – März.pdf", content: "" },
          ],
        }),
      ),
    );
    const [, quoted, international] = parts(mixed);
    expect(one(quoted!, "Content-Disposition")).toBe('attachment; filename="say \\"hi\\".txt"');
    const disposition = one(international!, "Content-Disposition");
    expect(disposition).toBe("attachment; filename*=UTF-8''Pr%C3%BCfbericht%20%E2%80%93%20M%C3%A4rz.pdf");
    expect(decodeURIComponent(disposition.split("''")[1]!)).toBe("Prüfbericht – März.pdf");
  });

  it("splits a long non-ASCII filename into RFC 2231 continuations on folded lines", () => {
    const filename = `${"é".repeat(100)}.txt`;
    const composed = compose({ text: "x", attachments: [{ filename, content: "" }] });
    const [, attachment] = parts(readEntity(text(composed)));
    const disposition = one(attachment!, "Content-Disposition");
    const pieces = [...disposition.matchAll(/filename\*(\d+)\*=(?:UTF-8'')?([^;\s]+)/g)];
    expect(pieces.map((m) => Number(m[1]))).toEqual(pieces.map((_, i) => i));
    expect(decodeURIComponent(pieces.map((m) => m[2]).join(""))).toBe(filename);
    expectWellFormed(composed);
  });
});

describe("composeMessage: envelope", () => {
  it("de-duplicates to + cc + bcc in order, case-insensitively on the domain only", () => {
    const composed = compose({
      text: "x",
      to: ["Bob@Example.NET", "bob@example.net", "BOB@example.net"],
      cc: ["bob@EXAMPLE.net", "carol@example.net"],
      bcc: ["Carol@example.net", "carol@Example.Net", "dave@example.org"],
    });
    // Bob@Example.NET and bob@example.net differ in the local part, which is case-sensitive
    expect(composed.envelope.recipients).toEqual([
      "Bob@Example.NET",
      "bob@example.net",
      "BOB@example.net",
      "carol@example.net",
      "Carol@example.net",
      "dave@example.org",
    ]);
    expect(composed.envelope.mailFrom).toBe("alice@example.com");
  });
});

describe("composeMessage: line discipline under stress", () => {
  it("keeps every line CRLF-terminated and within 998 octets", () => {
    const composed = compose({
      from: { email: "alice@example.com", name: "Ä".repeat(600) },
      to: Array.from({ length: 30 }, (_, i) => ({
        email: `r${i}@example.net`,
        name: `N${"x".repeat(300)}${i}`,
      })),
      subject: `${"s".repeat(990)} ${"ü".repeat(500)}`,
      text: `${"t".repeat(5000)}\n\n${"ß".repeat(3000)}`,
      html: `<p>${"h".repeat(5000)}</p>`,
      headers: {
        "X-Long": "v".repeat(3000),
        "List-Unsubscribe": Array(40).fill("<https://example.com/u>").join(", "),
      },
      attachments: [{ filename: `${"f".repeat(250)}.bin`, content: btoa("z".repeat(10_000)) }],
    });
    expectWellFormed(composed);
    const entity = readEntity(text(composed));
    expect(decodeWords(one(entity, "From"))).toBe(`${"Ä".repeat(600)} <alice@example.com>`);
  });
});
