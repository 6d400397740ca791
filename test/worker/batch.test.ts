// POST /v1/messages/batch in the real Workers runtime: each message answered on its own with the
// single endpoint's policy, one durable write, delivery of the accepted ones, limits, idempotency.
import { env } from "cloudflare:workers";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  admin,
  allFinal,
  call,
  newAccount,
  resetParameters,
  setParameters,
  sink,
  waitFor,
} from "./helpers.ts";

interface Answer {
  ok: boolean;
  status: number;
  body: { id?: string; status?: string | number; type?: string; smtp_status?: string; detail?: string };
}

const RELAY = ["relayhost", "smtp_tls_security_level", "smtp_sasl_auth_enable", "smtpd_recipient_limit"];

function batch(
  authorization: string,
  messages: unknown,
  extra: Record<string, string> = {},
): Promise<Response> {
  return call("/v1/messages/batch", {
    method: "POST",
    headers: { ...(authorization ? { authorization } : {}), "content-type": "application/json", ...extra },
    body: typeof messages === "string" ? messages : JSON.stringify(messages),
  });
}

const msg = (from: string, to: string[], subject = "batch") => ({
  from,
  to,
  subject,
  text: `hello ${subject}`,
});

async function rows(sql: string, ...args: unknown[]): Promise<number> {
  return (await env.DB.prepare(sql)
    .bind(...args)
    .first<{ n: number }>())!.n;
}

describe("POST /v1/messages/batch", () => {
  beforeAll(async () => {
    await sink.up();
    await setParameters({
      relayhost: `[127.0.0.1]:${sink.ports.open}`,
      smtp_tls_security_level: "none",
      smtp_sasl_auth_enable: "no",
    });
  });
  afterAll(() => resetParameters(RELAY));

  it("answers each message on its own, in order, and delivers the accepted ones", async () => {
    const alice = await newAccount(["batch@example.com"]);
    const res = await batch(alice.basic, [
      msg("batch@example.com", ["b1@example.net"], "one"),
      msg("batch@example.com", ["not an address"], "bad address"),
      msg("someone-else@example.com", ["b3@example.net"], "not her sender"),
      msg("batch@example.com", ["b4@example.net", "b5@example.net"], "four"),
    ]);
    expect(res.status).toBe(200);
    const { results } = await res.json<{ results: Answer[] }>();
    expect(results.map((r) => r.status)).toEqual([202, 422, 403, 202]);
    expect(results[0]).toMatchObject({ ok: true, body: { status: "queued" } });
    expect(results[1]).toMatchObject({ ok: false, body: { smtp_status: "5.1.3", status: 422 } });
    expect(results[2]).toMatchObject({
      ok: false,
      body: { type: "https://postern.dev/problems/rejected", smtp_status: "5.7.1" },
    });
    const first = await waitFor(alice.basic, results[0]!.body.id!, allFinal);
    expect(first.recipients.map((r) => r.status)).toEqual(["sent"]);
    const fourth = await waitFor(alice.basic, results[3]!.body.id!, allFinal);
    expect(fourth.recipients.map((r) => r.status)).toEqual(["sent", "sent"]);
    expect(await sink.waitForMessages("b5@example.net")).toHaveLength(1);
    expect((await sink.messages("b3@example.net")).length).toBe(0);
  });

  it("stores 100 messages in one request, with envelopes over D1's 100-parameter statements", async () => {
    await setParameters({ relayhost: "" }); // keep them queued: this test counts rows, not mail
    const alice = await newAccount(["hundred@example.com"]);
    const many = Array.from({ length: 100 }, (_, i) =>
      msg(
        "hundred@example.com",
        Array.from({ length: i === 0 ? 30 : 1 }, (_, k) => `r${i}-${k}@example.net`),
        `n${i}`,
      ),
    );
    const res = await batch(alice.basic, many);
    expect(res.status).toBe(200);
    const { results } = await res.json<{ results: Answer[] }>();
    expect(results).toHaveLength(100);
    expect(results.every((r) => r.status === 202)).toBe(true);
    const ids = results.map((r) => r.body.id!);
    expect(new Set(ids).size).toBe(100);
    const account = await (await admin("GET", `/accounts/${encodeURIComponent(alice.login)}`)).json<{
      id: string;
    }>();
    expect(await rows("select count(*) as n from messages where account_id = ?", account.id)).toBe(100);
    expect(
      await rows(
        "select count(*) as n from recipients where message_id in (select id from messages where account_id = ?)",
        account.id,
      ),
    ).toBe(129);
    expect(await env.BODIES.head(`bodies/${ids[99]}`)).not.toBeNull();
    // The 30-recipient message's first attempt (no relayhost: deferred) is recorded too.
    const deferred = await waitFor(alice.basic, ids[0]!, (v) =>
      v.recipients.every((r) => r.status === "deferred"),
    );
    expect(deferred.recipients).toHaveLength(30);
    await setParameters({ relayhost: `[127.0.0.1]:${sink.ports.open}` });
  });

  it("refuses more than 100 messages, an empty array and a non-array with 422", async () => {
    const alice = await newAccount(["limits@example.com"]);
    const over = await batch(
      alice.basic,
      Array.from({ length: 101 }, () => msg("limits@example.com", ["x@example.net"])),
    );
    expect(over.status).toBe(422);
    expect(over.headers.get("content-type")).toBe("application/problem+json");
    expect(await over.json()).toMatchObject({ type: "https://postern.dev/problems/invalid-batch" });
    expect((await batch(alice.basic, [])).status).toBe(422);
    expect((await batch(alice.basic, msg("limits@example.com", ["x@example.net"]))).status).toBe(422);
    expect((await batch(alice.basic, "[{")).status).toBe(400);
    const account = await (await admin("GET", `/accounts/${encodeURIComponent(alice.login)}`)).json<{
      id: string;
    }>();
    expect(await rows("select count(*) as n from messages where account_id = ?", account.id)).toBe(0);
  });

  it("refuses a batch over the size limit with 413 and a non-JSON body with 415", async () => {
    await setParameters({ message_size_limit: "20000" });
    try {
      const alice = await newAccount(["big-batch@example.com"]);
      const big = Array.from({ length: 5 }, () => ({
        ...msg("big-batch@example.com", ["x@example.net"]),
        text: "y".repeat(19_000),
      }));
      const res = await batch(alice.basic, big);
      expect(res.status).toBe(413);
      expect(await res.json()).toMatchObject({ type: "https://postern.dev/problems/batch-too-large" });
      const text = await call("/v1/messages/batch", {
        method: "POST",
        headers: { authorization: alice.basic, "content-type": "text/plain" },
        body: "hi",
      });
      expect(text.status).toBe(415);
    } finally {
      await resetParameters(["message_size_limit"]);
    }
  });

  it("needs authentication like the single endpoint: 401 with a challenge", async () => {
    const res = await batch("", [msg("anon@example.com", ["x@example.net"])]);
    expect(res.status).toBe(401);
    expect(res.headers.get("www-authenticate")).toContain("Basic");
    expect(await res.json()).toMatchObject({
      type: "https://postern.dev/problems/rejected",
      smtp_status: "5.7.1",
    });
  });

  it("answers a batch retried with its Idempotency-Key with the first answer", async () => {
    const alice = await newAccount(["batch-idem@example.com"]);
    const messages = [
      msg("batch-idem@example.com", ["i1@example.net"]),
      msg("batch-idem@example.com", ["bad"]),
    ];
    const key = { "idempotency-key": "batch-1" };
    const first = await batch(alice.basic, messages, key);
    const firstText = await first.text();
    const again = await batch(alice.basic, messages, key);
    expect(again.status).toBe(200);
    expect(again.headers.get("idempotent-replayed")).toBe("true");
    expect(await again.text()).toBe(firstText);
    const other = await batch(alice.basic, [messages[0]], key);
    expect(other.status).toBe(422);
    const account = await (await admin("GET", `/accounts/${encodeURIComponent(alice.login)}`)).json<{
      id: string;
    }>();
    expect(await rows("select count(*) as n from messages where account_id = ?", account.id)).toBe(1);
  });
});
