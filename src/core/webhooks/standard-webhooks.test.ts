// Postern's verifier against signatures made by the reference libraries (standardwebhooks, and
// svix for Clerk), and Postern's signer checked by the reference verifier.
import { Webhook as StandardWebhook } from "standardwebhooks";
import { Webhook as SvixWebhook } from "svix";
import { describe, expect, it } from "vitest";
import { newWebhookSecret, signWebhook, verifyWebhook } from "./standard-webhooks.ts";

const SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const OTHER = "whsec_dGhpcyBpcyBhbm90aGVyIHNlY3JldCBrZXkhIQ==";
const body = JSON.stringify({ user: { email: "a@example.com" }, email_data: { token: "123456" } });
const bytes = (s: string) => new TextEncoder().encode(s);
const now = Math.floor(Date.now() / 1000);

function signed(secret: string, id = "msg_1", at = now, payload = body, prefix = "webhook") {
  const signature = new StandardWebhook(secret).sign(id, new Date(at * 1000), payload);
  return new Headers({
    [`${prefix}-id`]: id,
    [`${prefix}-timestamp`]: String(at),
    [`${prefix}-signature`]: signature,
  });
}

describe("verifyWebhook against the standardwebhooks reference signer", () => {
  const cases: {
    name: string;
    headers: () => Headers;
    secrets: string[];
    payload?: string;
    want: true | string;
  }[] = [
    { name: "valid", headers: () => signed(SECRET), secrets: [SECRET], want: true },
    {
      name: "Supabase's v1,whsec_ form of the secret",
      headers: () => signed(SECRET),
      secrets: [`v1,${SECRET}`],
      want: true,
    },
    { name: "wrong secret", headers: () => signed(OTHER), secrets: [SECRET], want: "ERR_WEBHOOK_SIGNATURE" },
    {
      name: "rotated: the old secret still configured next to the new",
      headers: () => signed(OTHER),
      secrets: [SECRET, OTHER],
      want: true,
    },
    {
      name: "rotated: several signatures in the header, one valid",
      headers: () => {
        const h = signed(SECRET);
        const old = signed(OTHER).get("webhook-signature")!;
        h.set("webhook-signature", `${old} v1,AAAA ${h.get("webhook-signature")}`);
        return h;
      },
      secrets: [SECRET],
      want: true,
    },
    {
      name: "stale timestamp (6 minutes old)",
      headers: () => signed(SECRET, "msg_1", now - 360),
      secrets: [SECRET],
      want: "ERR_WEBHOOK_TIMESTAMP",
    },
    {
      name: "timestamp from the future (6 minutes ahead)",
      headers: () => signed(SECRET, "msg_1", now + 360),
      secrets: [SECRET],
      want: "ERR_WEBHOOK_TIMESTAMP",
    },
    {
      name: "tampered body",
      headers: () => signed(SECRET),
      secrets: [SECRET],
      payload: body.replace("123456", "654321"),
      want: "ERR_WEBHOOK_SIGNATURE",
    },
    {
      name: "id changed after signing",
      headers: () => {
        const h = signed(SECRET);
        h.set("webhook-id", "msg_2");
        return h;
      },
      secrets: [SECRET],
      want: "ERR_WEBHOOK_SIGNATURE",
    },
    {
      name: "missing signature header",
      headers: () => {
        const h = signed(SECRET);
        h.delete("webhook-signature");
        return h;
      },
      secrets: [SECRET],
      want: "ERR_WEBHOOK_HEADERS",
    },
    {
      name: "a v2 entry is not taken for v1",
      headers: () => {
        const h = signed(SECRET);
        h.set("webhook-signature", h.get("webhook-signature")!.replace(/^v1,/, "v2,"));
        return h;
      },
      secrets: [SECRET],
      want: "ERR_WEBHOOK_SIGNATURE",
    },
    {
      name: "no usable secret",
      headers: () => signed(SECRET),
      secrets: ["not-a-secret"],
      want: "ERR_WEBHOOK_SECRET",
    },
  ];
  for (const c of cases) {
    it(c.name, async () => {
      const result = await verifyWebhook({
        headers: c.headers(),
        body: bytes(c.payload ?? body),
        secrets: c.secrets,
      });
      if (c.want === true) expect(result).toEqual({ ok: true, id: "msg_1", timestamp: expect.any(Number) });
      else expect(result).toMatchObject({ ok: false, code: c.want });
    });
  }
});

describe("Svix (Clerk) signatures", () => {
  it("verifies svix-* headers signed by the svix library", async () => {
    const id = "msg_2p5BQGc3lxA7sPlTbR8zYx";
    const signature = new SvixWebhook(SECRET).sign(id, new Date(now * 1000), body);
    const headers = new Headers({
      "svix-id": id,
      "svix-timestamp": String(now),
      "svix-signature": signature,
    });
    expect(
      await verifyWebhook({ headers, body: bytes(body), secrets: [SECRET], prefix: "svix" }),
    ).toMatchObject({
      ok: true,
      id,
    });
    expect(
      await verifyWebhook({ headers, body: bytes(`${body} `), secrets: [SECRET], prefix: "svix" }),
    ).toMatchObject({
      ok: false,
      code: "ERR_WEBHOOK_SIGNATURE",
    });
  });
});

describe("signWebhook", () => {
  it("makes signatures the reference library verifies", async () => {
    const secret = newWebhookSecret();
    const signature = await signWebhook(secret, "msg_x", now, body);
    const payload = new StandardWebhook(secret).verify(body, {
      "webhook-id": "msg_x",
      "webhook-timestamp": String(now),
      "webhook-signature": signature,
    });
    expect(payload).toEqual(JSON.parse(body));
  });

  it("a fresh secret is whsec_ and 32 random bytes", () => {
    const a = newWebhookSecret();
    expect(a).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(newWebhookSecret()).not.toBe(a);
  });
});
