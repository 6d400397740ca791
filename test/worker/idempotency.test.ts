// Idempotency-Key on POST /v1/messages in the real Workers runtime (D1, R2, Queues): replays,
// conflicts, per-account scope, concurrent retries, release after a temporary refusal, expiry.
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import {
  DbIdempotencyStore,
  IDEMPOTENCY_LOCK_MS,
  IDEMPOTENCY_TTL_MS,
} from "../../src/db/idempotency-store.ts";
import { requestHash } from "../../src/http/submission/idempotency.ts";
import { openDatabase } from "../../src/worker/d1-database.ts";
import { sweep } from "../../src/worker/index.ts";
import { admin, call, newAccount, submitJson, submitRaw } from "./helpers.ts";

const msg = (from: string, subject = "idempotent") => ({
  from,
  to: ["rcpt@example.net"],
  subject,
  text: "once",
});

async function accountId(login: string): Promise<string> {
  return (await (await admin("GET", `/accounts/${encodeURIComponent(login)}`)).json<{ id: string }>()).id;
}

async function messageCount(login: string): Promise<number> {
  const row = await env.DB.prepare("select count(*) as n from messages where account_id = ?")
    .bind(await accountId(login))
    .first<{ n: number }>();
  return row!.n;
}

describe("Idempotency-Key on POST /v1/messages", () => {
  it("answers a retry with the same key and body with the first answer, and queues one message", async () => {
    const alice = await newAccount(["idem@example.com"]);
    const key = { "idempotency-key": "order-1001-receipt" };
    const first = await submitJson(alice.basic, msg("idem@example.com"), key);
    expect(first.status).toBe(202);
    const firstBody = await first.text();
    expect(first.headers.get("idempotent-replayed")).toBeNull();

    const again = await submitJson(alice.basic, msg("idem@example.com"), key);
    expect(again.status).toBe(202);
    expect(await again.text()).toBe(firstBody);
    expect(again.headers.get("location")).toBe(first.headers.get("location"));
    expect(again.headers.get("content-type")).toBe("application/json");
    expect(again.headers.get("idempotent-replayed")).toBe("true");
    expect(await messageCount(alice.login)).toBe(1);

    // Without a key, the same body is a new message.
    expect((await submitJson(alice.basic, msg("idem@example.com"))).status).toBe(202);
    expect(await messageCount(alice.login)).toBe(2);
  });

  it("answers 422 problem+json when the key comes back with another body", async () => {
    const alice = await newAccount(["idem2@example.com"]);
    const key = { "idempotency-key": "k-422" };
    expect((await submitJson(alice.basic, msg("idem2@example.com", "one"), key)).status).toBe(202);
    const other = await submitJson(alice.basic, msg("idem2@example.com", "two"), key);
    expect(other.status).toBe(422);
    expect(other.headers.get("content-type")).toBe("application/problem+json");
    expect(await other.json()).toMatchObject({ type: "https://postern.dev/problems/idempotency-key-reused" });
    expect(await messageCount(alice.login)).toBe(1);
  });

  it("tells a raw message with another envelope (query) from the first", async () => {
    const alice = await newAccount(["raw-idem@example.com"]);
    const raw = "Subject: raw\r\n\r\nbody\r\n";
    const send = (to: string) => submitRaw(alice.basic, "raw-idem@example.com", [to], raw);
    const keyed = (to: string) =>
      submitRawWithKey(
        alice.basic,
        `/v1/messages?from=raw-idem%40example.com&to=${encodeURIComponent(to)}`,
        raw,
      );
    expect((await keyed("a@example.net")).status).toBe(202);
    expect((await keyed("a@example.net")).headers.get("idempotent-replayed")).toBe("true");
    expect((await keyed("b@example.net")).status).toBe(422);
    expect((await send("c@example.net")).status).toBe(202);
    expect(await messageCount(alice.login)).toBe(2);
  });

  it("keeps keys per account: another account's identical key is its own", async () => {
    const a = await newAccount(["scope-a@example.com"]);
    const b = await newAccount(["scope-b@example.com"]);
    const key = { "idempotency-key": "shared-key" };
    const ra = await submitJson(a.basic, msg("scope-a@example.com"), key);
    const rb = await submitJson(b.basic, msg("scope-b@example.com"), key);
    expect(ra.status).toBe(202);
    expect(rb.status).toBe(202);
    expect(rb.headers.get("idempotent-replayed")).toBeNull();
    expect((await ra.json<{ id: string }>()).id).not.toBe((await rb.json<{ id: string }>()).id);
  });

  it("queues exactly one message under 25 concurrent retries of one key", async () => {
    const alice = await newAccount(["race@example.com"]);
    const key = { "idempotency-key": `race-${crypto.randomUUID()}` };
    const answers = await Promise.all(
      Array.from({ length: 25 }, () => submitJson(alice.basic, msg("race@example.com"), key)),
    );
    const statuses = answers.map((r) => r.status);
    expect(statuses.every((s) => s === 202 || s === 409)).toBe(true);
    const ids = new Set<string>();
    for (const res of answers) {
      if (res.status === 202) ids.add((await res.json<{ id: string }>()).id);
      else {
        expect(res.headers.get("content-type")).toBe("application/problem+json");
        expect(res.headers.get("retry-after")).toBe("1");
        await res.arrayBuffer();
      }
    }
    expect(ids.size).toBe(1);
    expect(await messageCount(alice.login)).toBe(1);
    const [id] = [...ids];
    const queued = await env.DB.prepare("select count(*) as n from recipients where message_id = ?")
      .bind(id!)
      .first<{ n: number }>();
    expect(queued!.n).toBe(1);
    // After the race, a retry is a plain replay.
    const late = await submitJson(alice.basic, msg("race@example.com"), key);
    expect(late.status).toBe(202);
    expect((await late.json<{ id: string }>()).id).toBe(id);
  });

  it("answers 409 while the first request with the key is still running", async () => {
    const alice = await newAccount(["flight@example.com"]);
    const store = new DbIdempotencyStore(openDatabase(env.DB));
    const body = msg("flight@example.com");
    const hash = await requestHash(
      ["POST /v1/messages", "application/json", ""],
      new TextEncoder().encode(JSON.stringify(body)),
    );
    // The first request has reserved the key and not answered yet.
    const scope = `account:${await accountId(alice.login)}`;
    expect((await store.reserve(scope, "in-flight", hash, Date.now())).kind).toBe("owner");
    const res = await submitJson(alice.basic, body, { "idempotency-key": "in-flight" });
    expect(res.status).toBe(409);
    expect(res.headers.get("content-type")).toBe("application/problem+json");
    expect(await res.json()).toMatchObject({ type: "https://postern.dev/problems/idempotency-key-in-use" });
    expect(await messageCount(alice.login)).toBe(0);
  });

  it("takes over a key whose first request died without answering", async () => {
    const alice = await newAccount(["died@example.com"]);
    const store = new DbIdempotencyStore(openDatabase(env.DB));
    const scope = `account:${await accountId(alice.login)}`;
    await store.reserve(scope, "orphan", "h", Date.now() - IDEMPOTENCY_LOCK_MS - 1000);
    const res = await submitJson(alice.basic, msg("died@example.com"), { "idempotency-key": "orphan" });
    expect(res.status).toBe(202);
    expect(await messageCount(alice.login)).toBe(1);
  });

  it("frees the key after a temporary refusal, so the retry is processed", async () => {
    const slow = await newAccount(["defer-idem@example.com"]);
    await admin("PUT", `/maps/sasl_access/${encodeURIComponent(slow.login)}`, { value: "DEFER" });
    const key = { "idempotency-key": "after-defer" };
    const deferred = await submitJson(slow.basic, msg("defer-idem@example.com"), key);
    expect(deferred.status).toBe(503);
    await admin("DELETE", `/maps/sasl_access/${encodeURIComponent(slow.login)}`);
    const retried = await submitJson(slow.basic, msg("defer-idem@example.com"), key);
    expect(retried.status).toBe(202);
    expect(retried.headers.get("idempotent-replayed")).toBeNull();
  });

  it("keeps a validation refusal: the same bad request gets the same 422 again", async () => {
    const alice = await newAccount(["bad-idem@example.com"]);
    const key = { "idempotency-key": "bad-body" };
    const bad = { from: "bad-idem@example.com", to: ["not an address"], subject: "s", text: "x" };
    const first = await submitJson(alice.basic, bad, key);
    expect(first.status).toBe(422);
    const second = await submitJson(alice.basic, bad, key);
    expect(second.status).toBe(422);
    expect(second.headers.get("idempotent-replayed")).toBe("true");
    expect(await second.text()).toBe(await first.text());
  });

  it("refuses a malformed key with 400", async () => {
    const alice = await newAccount(["key-syntax@example.com"]);
    const res = await submitJson(alice.basic, msg("key-syntax@example.com"), {
      "idempotency-key": "x".repeat(256),
    });
    expect(res.status).toBe(400);
    expect(await messageCount(alice.login)).toBe(0);
  });

  it("lets the sweeper delete expired keys, and an expired key starts afresh", async () => {
    const alice = await newAccount(["expiry@example.com"]);
    const scope = `account:${await accountId(alice.login)}`;
    const store = new DbIdempotencyStore(openDatabase(env.DB));
    const longAgo = Date.now() - IDEMPOTENCY_TTL_MS - 60_000;
    const old = await store.reserve(scope, "old-key", "h", longAgo);
    expect(old.kind).toBe("owner");
    if (old.kind !== "owner") return;
    await store.complete({
      scope,
      key: "old-key",
      token: old.token,
      answer: { status: 202, headers: {}, body: "{}" },
    });

    const reused = await submitJson(alice.basic, msg("expiry@example.com"), { "idempotency-key": "old-key" });
    expect(reused.status).toBe(202);
    expect(reused.headers.get("idempotent-replayed")).toBeNull();

    await store.reserve(scope, "stale-key", "h", longAgo);
    await sweep(env);
    const left = await env.DB.prepare("select key from idempotency_keys where scope = ? order by key")
      .bind(scope)
      .all<{ key: string }>();
    expect(left.results.map((r) => r.key)).toEqual(["old-key"]);
  });
});

function submitRawWithKey(authorization: string, path: string, raw: string): Promise<Response> {
  return call(path, {
    method: "POST",
    headers: { authorization, "content-type": "message/rfc822", "idempotency-key": "raw-key" },
    body: raw,
  });
}
