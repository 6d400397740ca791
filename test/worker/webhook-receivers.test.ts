// Inbound webhooks on the Workers runtime, end to end: a request signed by the Standard Webhooks
// reference library -> /v1/webhooks/{id} -> template -> the account's policy -> D1/R2/Queue ->
// the real test smarthost.
import { env } from "cloudflare:workers";
import { Webhook as SvixWebhook } from "svix";
import { beforeAll, describe, expect, it } from "vitest";
import { sweep } from "../../src/worker/index.ts";
import { admin, newAccount, sink } from "./helpers.ts";
import {
  accountId,
  createReceiver,
  decodeBody,
  messageCount,
  randomSecret,
  relayToSink,
  sendHook,
} from "./webhook-helpers.ts";

const supabasePayload = (
  action: string,
  extra: Record<string, unknown> = {},
  user: Record<string, unknown> = {},
) => ({
  user: {
    id: "8484b834-f29e-4af2-bf42-80644d154f76",
    email: user.email ?? `u-${crypto.randomUUID().slice(0, 8)}@example.net`,
    user_metadata: { name: "Ann <& Co>" },
    ...user,
  },
  email_data: {
    token: "305805",
    token_hash: "7d5b7b1964cf5d388340a7f04f1dbb5eeb6c7b52ef8270e1737a58d0",
    redirect_to: "https://app.example.com/welcome",
    email_action_type: action,
    site_url: "https://ref.supabase.co",
    token_new: "",
    token_hash_new: "",
    ...extra,
  },
});

describe("Supabase Send Email Hook", () => {
  const secret = randomSecret();
  let receiver: { id: string; path: string };
  let account: { login: string; basic: string; id: string };

  beforeAll(async () => {
    await sink.up();
    await relayToSink();
    const a = await newAccount(["auth@supa.example"]);
    account = { ...a, id: await accountId(a.login) };
    // Supabase shows the secret as v1,whsec_...: pasted as is.
    receiver = await createReceiver({
      account: a.login,
      kind: "supabase",
      secret: `v1,${secret}`,
      config: { from: "Acme <auth@supa.example>", supabase_url: "https://ref.supabase.co" },
    });
  });

  it("signup: 200 with an empty object, and the built-in mail with link and code reaches the smarthost", async () => {
    const payload = supabasePayload("signup");
    const res = await sendHook(receiver.path, payload, { secret });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({});
    const [got] = await sink.waitForMessages(payload.user.email as string);
    expect(got!.mailFrom).toBe("auth@supa.example");
    const text = decodeBody(got!.bodyBase64);
    expect(text).toContain("Subject: Confirm your signup");
    expect(text.replace(/=\r\n/g, "").replace(/=3D/g, "=")).toContain(
      "https://ref.supabase.co/auth/v1/verify?token=7d5b7b1964cf5d388340a7f04f1dbb5eeb6c7b52ef8270e1737a58d0&type=signup&redirect_to=https%3A%2F%2Fapp.example.com%2Fwelcome",
    );
    expect(text).toContain("305805");
  });

  it("renders the account's own template, escaping values in HTML only", async () => {
    const put = await admin(
      "PUT",
      `/accounts/${encodeURIComponent(account.login)}/templates/supabase-magiclink`,
      {
        subject: "Log in to Acme, {{ user_metadata.name }}",
        text: "Hi {{ user_metadata.name }}, code {{ token }}",
        html: '<p>Hi {{ user_metadata.name }}</p><a href="{{ confirmation_url }}">log in</a>',
      },
    );
    expect(put.status).toBe(200);
    const payload = supabasePayload("magiclink");
    expect((await sendHook(receiver.path, payload, { secret })).status).toBe(200);
    const [got] = await sink.waitForMessages(payload.user.email as string);
    const text = decodeBody(got!.bodyBase64).replace(/=\r\n/g, "");
    expect(text).toContain("Subject: Log in to Acme, Ann <& Co>");
    expect(text).toContain("Hi Ann <& Co>, code 305805");
    expect(text).toContain("<p>Hi Ann &lt;&amp; Co&gt;</p>");
  });

  it("email_change with secure email change: token_hash to the new address, token_hash_new to the current", async () => {
    const current = `cur-${crypto.randomUUID().slice(0, 8)}@example.net`;
    const next = `new-${crypto.randomUUID().slice(0, 8)}@example.net`;
    const payload = supabasePayload(
      "email_change",
      { token_new: "111222", token_hash_new: "hash-for-current" },
      { email: current, new_email: next },
    );
    expect((await sendHook(receiver.path, payload, { secret })).status).toBe(200);
    const [toNew] = await sink.waitForMessages(next);
    const [toCurrent] = await sink.waitForMessages(current);
    const unfold = (b64: string) => decodeBody(b64).replace(/=\r\n/g, "").replace(/=3D/g, "=");
    expect(unfold(toNew!.bodyBase64)).toContain(
      "token=7d5b7b1964cf5d388340a7f04f1dbb5eeb6c7b52ef8270e1737a58d0&type=email_change",
    );
    expect(unfold(toNew!.bodyBase64)).toContain("305805");
    expect(unfold(toCurrent!.bodyBase64)).toContain("token=hash-for-current&type=email_change");
    expect(unfold(toCurrent!.bodyBase64)).toContain("111222");
  });

  const refused: { name: string; send: (payload: unknown) => Promise<Response> }[] = [
    { name: "wrong secret", send: (p) => sendHook(receiver.path, p, { secret: randomSecret() }) },
    {
      name: "stale timestamp (6 minutes old)",
      send: (p) => sendHook(receiver.path, p, { secret, at: new Date(Date.now() - 6 * 60_000) }),
    },
    {
      name: "tampered body",
      send: (p) => sendHook(receiver.path, p, { secret, tamper: (b) => b.replace("305805", "000000") }),
    },
  ];
  for (const c of refused) {
    it(`${c.name}: 401 in Supabase's error shape, nothing stored`, async () => {
      const before = await messageCount(account.id);
      const res = await c.send(supabasePayload("recovery"));
      expect(res.status).toBe(401);
      expect(await res.json()).toMatchObject({ error: { http_code: 401, message: expect.any(String) } });
      expect(await messageCount(account.id)).toBe(before);
    });
  }

  it("a replayed webhook-id sends nothing a second time", async () => {
    const payload = supabasePayload("recovery");
    const id = `msg_${crypto.randomUUID()}`;
    const before = await messageCount(account.id);
    expect((await sendHook(receiver.path, payload, { secret, id })).status).toBe(200);
    expect((await sendHook(receiver.path, payload, { secret, id })).status).toBe(200);
    expect(await messageCount(account.id)).toBe(before + 1);
    // The sweeper forgets ids once their timestamps are long past the tolerance (they are refused as stale).
    const seen = () =>
      env.DB.prepare("select count(*) as n from webhook_seen_ids where webhook_id = ?")
        .bind(id)
        .first<{ n: number }>();
    expect((await seen())?.n).toBe(1);
    await sweep(env, Date.now() + 10 * 60_000);
    expect((await seen())?.n).toBe(1);
    await sweep(env, Date.now() + 16 * 60_000);
    expect((await seen())?.n).toBe(0);
  });

  it("rotated secrets: a header with several signatures, one made with the current secret", async () => {
    const old = randomSecret();
    const rotated = await admin("PATCH", `/webhooks/receivers/${receiver.id}`, { secret: [secret, old] });
    expect(rotated.status).toBe(200);
    const payload = supabasePayload("invite");
    const res = await sendHook(receiver.path, payload, {
      secret: old,
      signature: (signed) => `v1,bm90IGEgc2lnbmF0dXJl ${signed}`,
    });
    expect(res.status).toBe(200);
    await sink.waitForMessages(payload.user.email as string);
    const stale = await sendHook(receiver.path, supabasePayload("invite"), { secret: randomSecret() });
    expect(stale.status).toBe(401);
  });

  it("the account's sender ownership applies: a From it does not own is refused with 403", async () => {
    const other = await createReceiver({
      account: account.login,
      kind: "supabase",
      secret,
      config: { from: "someone-else@other.example" },
    });
    const id = `msg_${crypto.randomUUID()}`;
    const res = await sendHook(other.path, supabasePayload("signup"), { secret, id });
    expect(res.status).toBe(403);
    expect(await res.json()).toMatchObject({
      error: { http_code: 403, message: expect.stringContaining("553 5.7.1") },
    });
    // Not accepted: the id is not spent, so Supabase's retry is judged again (and refused again).
    expect((await sendHook(other.path, supabasePayload("signup"), { secret, id })).status).toBe(403);
  });

  it("a template placeholder without a value is a 422 naming it", async () => {
    await admin("PUT", `/accounts/${encodeURIComponent(account.login)}/templates/supabase-reauthentication`, {
      subject: "Code",
      text: "{{ token }} for {{ user_metadata.nickname }}",
    });
    const res = await sendHook(receiver.path, supabasePayload("reauthentication"), { secret });
    expect(res.status).toBe(422);
    expect(await res.json()).toMatchObject({
      error: { http_code: 422, message: expect.stringContaining("{{ user_metadata.nickname }}") },
    });
  });

  it("an unknown receiver is a 404", async () => {
    const res = await sendHook("/v1/webhooks/rcv_nope", supabasePayload("signup"), { secret });
    expect(res.status).toBe(404);
  });
});

describe("Clerk email.created (Svix)", () => {
  it("sends the rendered mail, signed by the svix library with svix-* headers", async () => {
    await relayToSink();
    const a = await newAccount(["accounts@clerk.example"]);
    const receiver = await createReceiver({
      account: a.login,
      kind: "clerk",
      config: { from: "accounts@clerk.example" },
    });
    expect(receiver.secret).toMatch(/^whsec_/);
    const to = `c-${crypto.randomUUID().slice(0, 8)}@example.net`;
    const body = JSON.stringify({
      object: "event",
      type: "email.created",
      data: {
        to_email_address: to,
        from_email_address: "notifications@accounts.dev",
        subject: "123456 is your verification code",
        body: "<p>Your code is <b>123456</b></p>",
        body_plain: "Your code is 123456",
        delivered_by_clerk: false,
        slug: "verification_code",
      },
    });
    const id = `msg_${crypto.randomUUID()}`;
    const now = new Date();
    const signature = new SvixWebhook(receiver.secret!).sign(id, now, body);
    const res = await (await import("./helpers.ts")).call(receiver.path, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        "svix-id": id,
        "svix-timestamp": String(Math.floor(now.getTime() / 1000)),
        "svix-signature": signature,
      },
      body,
    });
    expect(res.status).toBe(202);
    const { messages } = await res.json<{ messages: string[] }>();
    expect(messages).toHaveLength(1);
    const [got] = await sink.waitForMessages(to);
    const text = decodeBody(got!.bodyBase64);
    expect(got!.mailFrom).toBe("accounts@clerk.example");
    expect(text).toContain("Subject: 123456 is your verification code");
    expect(text).toContain("Your code is 123456");
  });
});

describe("generic signed webhook", () => {
  it("maps JSON onto a stored template by JSON Pointer, and the message belongs to the account", async () => {
    await relayToSink();
    const a = await newAccount(["shop@generic.example"]);
    await admin("PUT", `/accounts/${encodeURIComponent(a.login)}/templates/order-shipped`, {
      subject: "Order {{ order }} shipped",
      text: "Hello {{ name }}, order {{ order }} is on its way.",
    });
    const receiver = await createReceiver({
      account: a.login,
      kind: "generic",
      config: {
        from: "Shop <shop@generic.example>",
        template: "order-shipped",
        mapping: { to: "/customer/email", variables: { name: "/customer/name", order: "/order/id" } },
      },
    });
    const to = `g-${crypto.randomUUID().slice(0, 8)}@example.net`;
    const res = await sendHook(
      receiver.path,
      { customer: { email: to, name: "Bo" }, order: { id: 4711 } },
      { secret: receiver.secret! },
    );
    expect(res.status).toBe(202);
    const { messages } = await res.json<{ messages: string[] }>();
    const view = await (await import("./helpers.ts")).status(a.basic, messages[0]!);
    expect(view.recipients[0]!.address).toBe(to);
    const [got] = await sink.waitForMessages(to);
    const text = decodeBody(got!.bodyBase64);
    expect(text).toContain("Subject: Order 4711 shipped");
    expect(text).toContain("Hello Bo, order 4711 is on its way.");
    // A mapping that finds no recipient is the sender's fault: 400, nothing stored.
    const bad = await sendHook(receiver.path, { customer: {} }, { secret: receiver.secret! });
    expect(bad.status).toBe(400);
  });

  it("the admin API refuses a mapping that is not JSON Pointer", async () => {
    const a = await newAccount();
    const res = await admin("POST", "/webhooks/receivers", {
      account: a.login,
      kind: "generic",
      config: { from: "x@example.com", template: "t", mapping: { to: "customer.email" } },
    });
    expect(res.status).toBe(422);
    expect(await res.text()).toContain("not a JSON Pointer");
  });
});
