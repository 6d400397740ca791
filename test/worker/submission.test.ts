// Bad input gets a clear problem+json answer and leaves nothing behind.
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it } from "vitest";
import { admin, call, newAccount, resetParameters, setParameters, submitJson, submitRaw } from "./helpers.ts";

async function queueSize(): Promise<number> {
  const list = await (await admin("GET", "/queue?state=queued")).json<{ messages: unknown[] }>();
  const done = await (await admin("GET", "/queue?state=done")).json<{ messages: unknown[] }>();
  return list.messages.length + done.messages.length;
}

describe("submission validation", () => {
  afterEach(() => resetParameters(["message_size_limit", "smtpd_recipient_limit"]));

  it.each([
    ["CRLF in the subject", { subject: "hi\r\nBcc: victim@example.net" }],
    ["LF in the subject", { subject: "hi\nX-Evil: 1" }],
    ["CR in a display name", { from: "Alice\r\nBcc: v@example.net <inj@example.com>" }],
    ["CRLF in a recipient", { to: ["a@example.net\r\nBcc: v@example.net"] }],
    ["CRLF in a header value", { headers: { "X-Tag": "a\r\nBcc: v@example.net" } }],
    ["a colon in a header name", { headers: { "X-A:B": "x" } }],
    ["a Bcc header", { headers: { Bcc: "v@example.net" } }],
    ["a Content-Type header", { headers: { "Content-Type": "text/html" } }],
    ["CRLF in an attachment filename", { attachments: [{ filename: "a\r\n.txt", content: "eA==" }] }],
  ])("rejects header injection: %s (422, nothing queued)", async (_name, patch) => {
    const alice = await newAccount(["inj@example.com"]);
    const before = await queueSize();
    const res = await submitJson(alice.basic, {
      from: "inj@example.com",
      to: ["r@example.net"],
      subject: "s",
      text: "x",
      ...patch,
    });
    expect(res.status).toBe(422);
    expect(res.headers.get("content-type")).toBe("application/problem+json");
    expect(await queueSize()).toBe(before);
  });

  it("rejects a malformed recipient address with 5.1.3", async () => {
    const alice = await newAccount(["addr@example.com"]);
    const res = await submitJson(alice.basic, {
      from: "addr@example.com",
      to: ["not an address"],
      subject: "s",
      text: "x",
    });
    expect(res.status).toBe(422);
    expect(await res.json()).toMatchObject({ smtp_status: "5.1.3" });
    const raw = await submitRaw(
      alice.basic,
      "addr@example.com",
      ["bad@@example.net"],
      "Subject: x\r\n\r\nx\r\n",
    );
    expect(raw.status).toBe(422);
    expect(await raw.json()).toMatchObject({ smtp_status: "5.1.3" });
  });

  it("rejects a message over message_size_limit with 413 and 5.3.4, JSON and raw alike", async () => {
    await setParameters({ message_size_limit: "20000" });
    const alice = await newAccount(["big@example.com"]);
    const before = await queueSize();
    const json = await submitJson(alice.basic, {
      from: "big@example.com",
      to: ["r@example.net"],
      subject: "s",
      text: "y".repeat(25_000),
    });
    expect(json.status).toBe(413);
    expect(await json.json()).toMatchObject({
      smtp_status: "5.3.4",
      smtp_reply: "552 5.3.4 Message size exceeds fixed limit",
    });
    const raw = await submitRaw(
      alice.basic,
      "big@example.com",
      ["r@example.net"],
      `Subject: x\r\n\r\n${"z".repeat(25_000)}\r\n`,
    );
    expect(raw.status).toBe(413);
    expect(await queueSize()).toBe(before);
    expect(
      (
        await submitJson(alice.basic, {
          from: "big@example.com",
          to: ["r@example.net"],
          subject: "s",
          text: "small",
        })
      ).status,
    ).toBe(202);
  });

  it("rejects more recipients than smtpd_recipient_limit", async () => {
    await setParameters({ smtpd_recipient_limit: "3" });
    const alice = await newAccount(["many@example.com"]);
    const to = ["a@example.net", "b@example.net", "c@example.net", "d@example.net"];
    const res = await submitJson(alice.basic, { from: "many@example.com", to, subject: "s", text: "x" });
    expect(res.status).toBe(422);
    expect(await res.json()).toMatchObject({ smtp_status: "5.5.3" });
  });

  it("rejects malformed JSON and unsupported media types", async () => {
    const alice = await newAccount(["fmt@example.com"]);
    const bad = await call("/v1/messages", {
      method: "POST",
      headers: { authorization: alice.basic, "content-type": "application/json" },
      body: "{not json",
    });
    expect(bad.status).toBe(400);
    const form = await call("/v1/messages", {
      method: "POST",
      headers: { authorization: alice.basic, "content-type": "text/plain" },
      body: "x",
    });
    expect(form.status).toBe(415);
  });

  it("rejects a raw message with a bare CR (no smuggling through the raw path)", async () => {
    const alice = await newAccount(["cr@example.com"]);
    const res = await submitRaw(
      alice.basic,
      "cr@example.com",
      ["r@example.net"],
      "Subject: x\r\n\r\nline\rsmuggled\r\n",
    );
    expect(res.status).toBe(422);
  });

  it("keeps Bcc recipients out of the stored message but in the envelope; adds Date and Message-ID", async () => {
    const alice = await newAccount(["bcc@example.com"]);
    const res = await submitJson(alice.basic, {
      from: "bcc@example.com",
      to: ["to@example.net"],
      cc: ["cc@example.net"],
      bcc: ["hidden@example.net"],
      subject: "Grüße",
      text: "x",
    });
    expect(res.status).toBe(202);
    const { id } = await res.json<{ id: string }>();
    const stored = await (await env.BODIES.get(`bodies/${id}`))!.text();
    expect(stored).not.toContain("hidden@example.net");
    expect(stored).toMatch(/^Date: /m);
    expect(stored).toMatch(/^Message-ID: <[^>]+@[^>]+>/im);
    expect(stored).toMatch(/^Subject: =\?utf-8\?/im);
    const view = await (await admin("GET", `/queue/${id}`)).json<{ recipients: { address: string }[] }>();
    expect(view.recipients.map((r) => r.address)).toEqual([
      "to@example.net",
      "cc@example.net",
      "hidden@example.net",
    ]);
  });
});
