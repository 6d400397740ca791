// Delivery events on the Workers runtime, pushed to a real HTTP receiver (test/webhook-receiver)
// through the event outbox, the queue and the dispatcher. Signatures are checked with the
// Standard Webhooks reference library.
import { env } from "cloudflare:workers";
import { Webhook } from "standardwebhooks";
import { beforeAll, describe, expect, it } from "vitest";
import { runEvents } from "../../src/worker/index.ts";
import type { ReceivedHook } from "../webhook-receiver/client.ts";
import { webhookReceiver } from "../webhook-receiver/client.ts";
import { admin, allFinal, basic, call, newAccount, sink, submitJson, waitFor } from "./helpers.ts";
import { relayToSink } from "./webhook-helpers.ts";

const receiver = webhookReceiver(env.TEST_WEBHOOK_RECEIVER!);

interface Endpoint {
  id: string;
  secret: string;
  disabled: boolean;
  disabled_reason: string | null;
}

async function endpoint(login: string, name: string, events?: string[]): Promise<Endpoint> {
  const res = await admin("POST", "/webhooks/endpoints", { account: login, url: receiver.url(name), events });
  expect(res.status).toBe(201);
  return res.json();
}

const hookName = (what: string) => `${what}-${crypto.randomUUID().slice(0, 8)}`;
const parsed = (hook: ReceivedHook) =>
  JSON.parse(hook.body) as { type: string; timestamp: string; data: Record<string, unknown> };

/** The signature the reference library makes for this request, with its own id and timestamp. */
function expectSignedBy(secret: string, hook: ReceivedHook): void {
  const id = hook.headers["webhook-id"]!;
  const timestamp = Number(hook.headers["webhook-timestamp"]);
  expect(hook.headers["webhook-signature"]).toBe(
    new Webhook(secret).sign(id, new Date(timestamp * 1000), hook.body),
  );
}

describe("delivery events to webhook endpoints", () => {
  beforeAll(async () => {
    await sink.up();
    await relayToSink();
  });

  it("message.accepted then message.sent, in order, each verified by the reference library", async () => {
    const a = await newAccount(["events@example.com"]);
    const name = hookName("order");
    const ep = await endpoint(a.login, name);
    expect(ep.secret).toMatch(/^whsec_/);
    const res = await submitJson(a.basic, {
      from: "events@example.com",
      to: ["e1@example.net"],
      subject: "s",
      text: "t",
    });
    expect(res.status).toBe(202);
    const { id } = await res.json<{ id: string }>();
    await waitFor(a.basic, id, allFinal);
    const hooks = await receiver.waitFor(name, 2);
    expect(hooks.map((h) => parsed(h).type)).toEqual(["message.accepted", "message.sent"]);
    for (const hook of hooks) {
      // verify() also checks the timestamp tolerance: these were sent just now.
      const payload = new Webhook(ep.secret).verify(hook.body, hook.headers) as {
        data: Record<string, unknown>;
      };
      expect(payload.data.message_id).toBe(id);
      expect(hook.headers["content-type"]).toBe("application/json");
    }
    expect(parsed(hooks[0]!).data).toMatchObject({
      status: "queued",
      from: "events@example.com",
      to: ["e1@example.net"],
    });
    expect(parsed(hooks[1]!).data).toMatchObject({
      recipient: "e1@example.net",
      status: "sent",
      reply: expect.stringMatching(/^250 /),
    });
    expect(new Set(hooks.map((h) => h.headers["webhook-id"])).size).toBe(2);
    expect(() =>
      new Webhook(`whsec_${btoa("a different secret of 32 bytes!!")}`).verify(
        hooks[0]!.body,
        hooks[0]!.headers,
      ),
    ).toThrow();
  });

  it("one message.sent per recipient, each its own event", async () => {
    const a = await newAccount(["many@example.com"]);
    const name = hookName("many");
    await endpoint(a.login, name, ["message.sent"]);
    const to = Array.from({ length: 9 }, (_, i) => `m${i}@example.net`);
    const res = await submitJson(a.basic, { from: "many@example.com", to, subject: "s", text: "t" });
    const { id } = await res.json<{ id: string }>();
    await waitFor(a.basic, id, allFinal);
    const hooks = await receiver.waitFor(name, 9);
    expect(hooks.map((h) => parsed(h).data.recipient).sort()).toEqual([...to].sort());
    expect(new Set(hooks.map((h) => h.headers["webhook-id"])).size).toBe(9);
  });

  it("retries a failing endpoint on the schedule with the same webhook-id, until it answers 2xx", async () => {
    const a = await newAccount(["retry@example.com"]);
    const name = hookName("retry");
    await receiver.script(name, [500, 503]);
    const ep = await endpoint(a.login, name, ["message.accepted"]);
    expect(
      (
        await submitJson(a.basic, {
          from: "retry@example.com",
          to: ["r@example.net"],
          subject: "s",
          text: "t",
        })
      ).status,
    ).toBe(202);
    await receiver.waitFor(name, 1);
    // Step the dispatcher's clock past each wait (5 s, 5 min, ...) instead of sleeping through them.
    for (let step = 1; (await receiver.requests(name)).length < 3 && step <= 8; step++) {
      await runEvents(env, { now: () => Date.now() + step * 11 * 3600_000 });
    }
    const hooks = await receiver.requests(name);
    expect(hooks).toHaveLength(3);
    expect(new Set(hooks.map((h) => h.headers["webhook-id"])).size).toBe(1);
    for (const hook of hooks) expectSignedBy(ep.secret, hook);
    const log = await (await admin("GET", `/webhooks/endpoints/${ep.id}/events`)).json<{
      events: { state: string; attempts: number; last_status: number }[];
    }>();
    expect(log.events).toEqual([
      expect.objectContaining({ state: "delivered", attempts: 3, last_status: 200 }),
    ]);
  });

  it("410 Gone disables the endpoint: later events are not recorded for it", async () => {
    const a = await newAccount(["gone@example.com"]);
    const name = hookName("gone");
    await receiver.script(name, [], 410);
    const ep = await endpoint(a.login, name, ["message.accepted"]);
    const msg = { from: "gone@example.com", to: ["g@example.net"], subject: "s", text: "t" };
    expect((await submitJson(a.basic, msg)).status).toBe(202);
    await receiver.waitFor(name, 1);
    let view = ep;
    for (const deadline = Date.now() + 15_000; !view.disabled && Date.now() < deadline; ) {
      await new Promise((r) => setTimeout(r, 50));
      view = await (await admin("GET", `/webhooks/endpoints/${ep.id}`)).json<Endpoint>();
    }
    expect(view).toMatchObject({ disabled: true, disabled_reason: "410 Gone" });
    expect((await submitJson(a.basic, msg)).status).toBe(202);
    const log = await (await admin("GET", `/webhooks/endpoints/${ep.id}/events`)).json<{
      events: { state: string }[];
    }>();
    expect(log.events.map((e) => e.state)).toEqual(["failed"]);
    // Enabled again by an admin, it takes events again.
    await receiver.script(name, []);
    expect((await admin("PATCH", `/webhooks/endpoints/${ep.id}`, { disabled: false })).status).toBe(200);
    expect((await submitJson(a.basic, msg)).status).toBe(202);
    await receiver.waitFor(name, 2);
  });

  it("auth.failed for the account's login, without the password", async () => {
    const a = await newAccount();
    const name = hookName("auth");
    const ep = await endpoint(a.login, name, ["auth.failed"]);
    const res = await call("/v1/messages/01ARZ3NDEKTSV4RRFFQ69G5FAV", {
      headers: { authorization: basic(a.login, "wrong-password-here") },
    });
    expect(res.status).toBe(401);
    const [hook] = await receiver.waitFor(name, 1);
    expectSignedBy(ep.secret, hook!);
    expect(parsed(hook!)).toMatchObject({
      type: "auth.failed",
      data: { login: a.login, mechanism: "PLAIN", client_address: expect.any(String) },
    });
    expect(hook!.body).not.toContain("wrong-password-here");
  });

  it("message.deferred for a 451, with the smarthost's reply", async () => {
    const a = await newAccount(["defer-ev@example.com"]);
    const name = hookName("defer");
    await endpoint(a.login, name, ["message.deferred"]);
    const res = await submitJson(a.basic, {
      from: "defer-ev@example.com",
      to: ["defer451-ev@example.net"],
      subject: "s",
      text: "t",
    });
    const { id } = await res.json<{ id: string }>();
    const [hook] = await receiver.waitFor(name, 1);
    expect(parsed(hook!)).toMatchObject({
      type: "message.deferred",
      data: {
        message_id: id,
        recipient: "defer451-ev@example.net",
        status: "deferred",
        reply: expect.stringContaining("451 4.3.0"),
      },
    });
    // postsuper -d: stop the retries.
    expect((await admin("DELETE", `/queue/${id}`)).status).toBe(204);
  });

  it("message.held for a HOLD, message.bounced for a 550", async () => {
    const held = await newAccount(["held-ev@example.com"]);
    await admin("PUT", `/maps/sasl_access/${encodeURIComponent(held.login)}`, { value: "HOLD review" });
    const heldName = hookName("held");
    await endpoint(held.login, heldName, ["message.held"]);
    expect(
      (
        await submitJson(held.basic, {
          from: "held-ev@example.com",
          to: ["h@example.net"],
          subject: "s",
          text: "t",
        })
      ).status,
    ).toBe(202);
    const [heldHook] = await receiver.waitFor(heldName, 1);
    expect(parsed(heldHook!)).toMatchObject({
      type: "message.held",
      data: { reason: expect.stringContaining("review") },
    });

    const b = await newAccount(["bounce-ev@example.com"]);
    const name = hookName("bounce");
    await endpoint(b.login, name, ["message.bounced"]);
    const res = await submitJson(b.basic, {
      from: "bounce-ev@example.com",
      to: ["reject550-ev@example.net"],
      subject: "s",
      text: "t",
    });
    const { id } = await res.json<{ id: string }>();
    await waitFor(b.basic, id, allFinal);
    const [hook] = await receiver.waitFor(name, 1);
    expect(parsed(hook!)).toMatchObject({
      type: "message.bounced",
      data: {
        message_id: id,
        recipient: "reject550-ev@example.net",
        reply: expect.stringContaining("550 5.1.1"),
      },
    });
  });
});
