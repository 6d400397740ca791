// End to end on the Workers runtime: HTTP submission -> D1 + R2 -> Queue -> consumer -> connect()
// -> a real SMTP smarthost process (STARTTLS or implicit TLS, AUTH required) -> per-recipient status.
import { env } from "cloudflare:workers";
import { beforeAll, beforeEach, describe, expect, it } from "vitest";
import { newQueueId } from "../../src/core/ids.ts";
import { bodyKeyFor } from "../../src/core/submission/accept.ts";
import { DbMessageStore } from "../../src/db/message-store.ts";
import { openDatabase } from "../../src/worker/d1-database.ts";
import { runDelivery, sweep } from "../../src/worker/index.ts";
import {
  admin,
  allFinal,
  newAccount,
  setParameters,
  sink,
  status,
  submitJson,
  submitRaw,
  waitFor,
} from "./helpers.ts";

const ports = sink.ports;

async function relayVia(port: number, extra: Record<string, string> = {}) {
  const hop = `[127.0.0.1]:${port}`;
  await setParameters({
    relayhost: hop,
    smtp_sasl_auth_enable: "yes",
    smtp_tls_security_level: "encrypt",
    smtp_tls_wrappermode: "no",
    minimal_backoff_time: "1s",
    maximal_backoff_time: "2s",
    ...extra,
  });
  const res = await admin("PUT", `/maps/sasl_passwd/${encodeURIComponent(hop)}`, {
    value: "relay:relay-secret",
  });
  expect(res.status).toBe(200);
}

/** What a crash between the D1 commit and queue.send() leaves behind: rows and a body, no job. */
async function commitWithoutJob(login: string, from: string, to: string[], count: number): Promise<string[]> {
  const account = await (await admin("GET", `/accounts/${encodeURIComponent(login)}`)).json<{ id: string }>();
  const store = new DbMessageStore(openDatabase(env.DB));
  const ids: string[] = [];
  for (let i = 0; i < count; i++) {
    const id = newQueueId();
    const body = new TextEncoder().encode(`From: ${from}\r\nSubject: committed ${i}\r\n\r\nbody\r\n`);
    await env.BODIES.put(bodyKeyFor(id), body);
    await store.insert({
      id,
      accountId: account.id,
      saslUsername: login,
      saslMethod: "PLAIN",
      clientAddress: "unknown",
      mailFrom: from,
      bodyKey: bodyKeyFor(id),
      size: body.byteLength,
      headerMessageId: null,
      eightBit: false,
      smtputf8: false,
      state: "queued",
      stateReason: null,
      recipients: to,
      recipientStatus: "queued",
      now: Date.now(),
    });
    ids.push(id);
  }
  return ids;
}

const decode = (b64: string) => Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));

describe("delivery to the smarthost", () => {
  beforeAll(async () => {
    await sink.up();
  });
  beforeEach(async () => {
    await sink.clear();
    await relayVia(ports.starttls);
  });

  it("delivers a JSON submission over STARTTLS with AUTH, and reports the smarthost's reply", async () => {
    const alice = await newAccount(["alice@example.com"]);
    const res = await submitJson(alice.basic, {
      from: "Alice <alice@example.com>",
      to: ["bob@example.net"],
      subject: "Hello",
      text: "Line one\n.leading dot\nLine three",
    });
    expect(res.status).toBe(202);
    const { id, status: accepted } = await res.json<{ id: string; status: string }>();
    expect(accepted).toBe("queued");
    expect(res.headers.get("location")).toBe(`/v1/messages/${id}`);

    const view = await waitFor(alice.basic, id, allFinal);
    expect(view.recipients[0]).toMatchObject({ address: "bob@example.net", status: "sent" });
    expect(view.recipients[0]!.reply).toMatch(/^250 2\.0\.0 Ok: queued as \S+/);

    const [got] = await sink.messages("bob@example.net");
    expect(got).toMatchObject({
      server: "starttls",
      mailFrom: "alice@example.com",
      authUser: "relay",
      secure: true,
    });
    expect(got!.rcptTo).toEqual(["bob@example.net"]);
    const stored = await env.BODIES.get(`bodies/${id}`);
    const body = new Uint8Array(await stored!.arrayBuffer());
    expect(decode(got!.bodyBase64)).toEqual(body);
    expect(new TextDecoder().decode(body)).toContain("\r\n.leading dot\r\n");
  });

  it("relays a raw message/rfc822 byte-exact over implicit TLS (smtp_tls_wrappermode)", async () => {
    await relayVia(ports.implicit, { smtp_tls_wrappermode: "yes" });
    const alice = await newAccount(["raw@example.com"]);
    const raw =
      "From: raw@example.com\r\nTo: carol@example.net\r\nSubject: raw\r\nMessage-ID: <raw-1@example.com>\r\n\r\n" +
      ".dot first\r\nnon-ASCII: caf\u00e9\r\n\r\n..two dots\r\nlast line without CRLF";
    const res = await submitRaw(
      alice.basic,
      "raw@example.com",
      ["carol@example.net", "dave@example.net"],
      raw,
    );
    expect(res.status).toBe(202);
    const { id } = await res.json<{ id: string }>();
    const view = await waitFor(alice.basic, id, allFinal);
    expect(view.recipients.map((r) => r.status)).toEqual(["sent", "sent"]);

    const [got] = await sink.messages("carol@example.net");
    expect(got).toMatchObject({ server: "implicit", secure: true, authUser: "relay" });
    expect(got!.rcptTo).toEqual(["carol@example.net", "dave@example.net"]);
    // The only change Postern makes to a raw message is the final CRLF SMTP needs.
    expect(new TextDecoder().decode(decode(got!.bodyBase64))).toBe(`${raw}\r\n`);
  });

  it("records a 550 from the smarthost as bounced with its reply, and delivers the other recipient", async () => {
    const alice = await newAccount(["a550@example.com"]);
    const res = await submitJson(alice.basic, {
      from: "a550@example.com",
      to: ["reject550-x@example.net", "fine@example.net"],
      subject: "mixed",
      text: "x",
    });
    const { id } = await res.json<{ id: string }>();
    const view = await waitFor(alice.basic, id, allFinal);
    const byAddress = Object.fromEntries(view.recipients.map((r) => [r.address, r]));
    expect(byAddress["reject550-x@example.net"]!.status).toBe("bounced");
    expect(byAddress["reject550-x@example.net"]!.reply).toMatch(
      /550 5\.1\.1 .*User unknown.*\(in reply to RCPT TO command\)/,
    );
    expect(byAddress["fine@example.net"]!.status).toBe("sent");
    const attempts = await (await admin("GET", `/queue/${id}`)).json<{
      attempts_log: { status: string }[];
    }>();
    expect(attempts.attempts_log.map((a) => a.status).sort()).toEqual(["bounced", "sent"]);

    // The sender is told: a delivery status notification, null sender, through the same smarthost.
    const [notice] = await sink.waitForMessages("a550@example.com", 1, 20_000);
    expect(notice).toMatchObject({ mailFrom: "", rcptTo: ["a550@example.com"], authUser: "relay" });
    const report = new TextDecoder().decode(decode(notice!.bodyBase64));
    expect(report).toMatch(/^Content-Type: multipart\/report; report-type=delivery-status;/m);
    expect(report).toContain("Subject: Undelivered Mail Returned to Sender");
    expect(report).toContain(`X-Postfix-Queue-ID: ${id}`);
    expect(report).toContain(
      "Final-Recipient: rfc822; reject550-x@example.net\r\nAction: failed\r\nStatus: 5.1.1",
    );
    expect(report).toMatch(
      /Diagnostic-Code: smtp; 550 5\.1\.1 <reject550-x@example\.net>: Recipient address rejected/,
    );
    expect(report).toContain("Content-Type: message/rfc822");
    expect(report).not.toContain("fine@example.net>: host");
  });

  it("defers while the smarthost is down and delivers once it is back; nothing is lost", async () => {
    const alice = await newAccount(["down@example.com"]);
    await sink.down();
    const ids: string[] = [];
    try {
      for (let i = 0; i < 3; i++) {
        const res = await submitJson(alice.basic, {
          from: "down@example.com",
          to: [`down${i}@example.net`],
          subject: `d${i}`,
          text: "x",
        });
        expect(res.status).toBe(202);
        ids.push((await res.json<{ id: string }>()).id);
      }
      for (const id of ids) {
        const view = await waitFor(alice.basic, id, (v) => v.recipients[0]!.status === "deferred");
        expect(view.recipients[0]!.reply).toMatch(
          /connect to 127\.0\.0\.1\[127\.0\.0\.1\]:\d+|Connection refused|connect/i,
        );
        expect(view.recipients[0]!.next_attempt_at).not.toBeNull();
      }
    } finally {
      await sink.up();
    }
    for (const id of ids) {
      const view = await waitFor(alice.basic, id, allFinal);
      expect(view.recipients[0]!.status).toBe("sent");
      expect(view.recipients[0]!.attempts).toBeGreaterThanOrEqual(2);
    }
    for (let i = 0; i < 3; i++) expect(await sink.messages(`down${i}@example.net`)).toHaveLength(1);
  });

  it("defers a message whose connection drops mid-DATA; nothing is recorded as sent", async () => {
    const alice = await newAccount(["drop@example.com"]);
    const res = await submitJson(alice.basic, {
      from: "drop@example.com",
      to: ["dropdata@example.net"],
      subject: "d",
      text: "x".repeat(5000),
    });
    const { id } = await res.json<{ id: string }>();
    const view = await waitFor(alice.basic, id, (v) => v.recipients[0]!.attempts >= 1);
    expect(view.recipients[0]!.status).toBe("deferred");
    expect(view.recipients[0]!.reply).toMatch(/lost connection|connection/i);
    expect(await sink.messages("dropdata@example.net")).toHaveLength(0);
  });

  it("never sends credentials in the clear: no TLS and noplaintext defers with 'No worthy mechs found'", async () => {
    await relayVia(ports.plain, { smtp_tls_security_level: "may" });
    const alice = await newAccount(["clear@example.com"]);
    const res = await submitJson(alice.basic, {
      from: "clear@example.com",
      to: ["x@example.net"],
      subject: "s",
      text: "x",
    });
    const { id } = await res.json<{ id: string }>();
    const view = await waitFor(alice.basic, id, (v) => v.recipients[0]!.attempts >= 1);
    expect(view.recipients[0]!.status).toBe("deferred");
    expect(view.recipients[0]!.reply).toContain("SASL authentication failure: No worthy mechs found");
    expect(await sink.messages("x@example.net")).toHaveLength(0);
  });

  it("bounces a deferred recipient once maximal_queue_lifetime has passed, keeping the last error", async () => {
    await relayVia(ports.starttls, { maximal_queue_lifetime: "0s" });
    try {
      const alice = await newAccount(["late@example.com"]);
      const res = await submitJson(alice.basic, {
        from: "late@example.com",
        to: ["defer451@example.net"],
        subject: "s",
        text: "x",
      });
      const { id } = await res.json<{ id: string }>();
      const view = await waitFor(alice.basic, id, allFinal);
      expect(view.recipients[0]!.status).toBe("bounced");
      expect(view.recipients[0]!.reply).toMatch(/expired.*451 4\.3\.0/);
    } finally {
      await admin("DELETE", "/settings/maximal_queue_lifetime");
    }
  });

  it("the sweeper queues a committed message whose queue job was lost", async () => {
    const alice = await newAccount(["sweep@example.com"]);
    const [id] = await commitWithoutJob(alice.login, "sweep@example.com", ["swept@example.net"], 1);
    expect(await sweep(env, Date.now())).not.toContain(id); // within the grace period: left to the queue
    expect(await sweep(env, Date.now() + 5 * 60_000)).toContain(id);
    const view = await waitFor(alice.basic, id!, allFinal);
    expect(view.recipients[0]!.status).toBe("sent");
    expect(await sink.messages("swept@example.net")).toHaveLength(1);
  });

  it("relays every message of one batch over one SMTP session", async () => {
    const alice = await newAccount(["batch@example.com"]);
    const ids = await commitWithoutJob(alice.login, "batch@example.com", ["batch@example.net"], 3);
    await runDelivery(ids, env);
    const got = await sink.messages("batch@example.net");
    expect(got).toHaveLength(3);
    expect(new Set(got.map((m) => m.connection)).size).toBe(1);
    for (const id of ids) expect((await status(alice.basic, id)).recipients[0]!.status).toBe("sent");
  });

  it("a large batch spreads over parallel sessions within the Workers connection limit", async () => {
    const alice = await newAccount(["wide@example.com"]);
    const ids = await commitWithoutJob(alice.login, "wide@example.com", ["wide@example.net"], 35);
    await runDelivery(ids, env);
    const got = await sink.messages("wide@example.net");
    expect(got).toHaveLength(35);
    const sessions = new Set(got.map((m) => m.connection)).size;
    // One session per 10 messages, at most 4 in one invocation (6 connections, R2 and D1 included).
    expect(sessions).toBeGreaterThan(1);
    expect(sessions).toBeLessThanOrEqual(4);
    for (const id of ids) expect((await status(alice.basic, id)).recipients[0]!.status).toBe("sent");
  });

  it("a job handed out twice is relayed once (the delivery lease)", async () => {
    const alice = await newAccount(["twice@example.com"]);
    const [id] = await commitWithoutJob(alice.login, "twice@example.com", ["twice@example.net"], 1);
    await Promise.all([runDelivery([id!], env), runDelivery([id!], env)]);
    await runDelivery([id!], env);
    expect(await sink.messages("twice@example.net")).toHaveLength(1);
  });

  it("defers with a clear reason when relayhost names port 25, which Workers cannot reach", async () => {
    await setParameters({ relayhost: "[127.0.0.1]:25" });
    const alice = await newAccount(["p25@example.com"]);
    const res = await submitJson(alice.basic, {
      from: "p25@example.com",
      to: ["p25@example.net"],
      subject: "s",
      text: "x",
    });
    const { id } = await res.json<{ id: string }>();
    const view = await waitFor(alice.basic, id, (v) => v.recipients[0]!.attempts >= 1);
    expect(view.recipients[0]!.status).toBe("deferred");
    expect(view.recipients[0]!.reply).toMatch(/port 25/);
  });

  it("status is visible to the owner only", async () => {
    const alice = await newAccount(["own@example.com"]);
    const mallory = await newAccount();
    const res = await submitJson(alice.basic, {
      from: "own@example.com",
      to: ["o@example.net"],
      subject: "s",
      text: "x",
    });
    const { id } = await res.json<{ id: string }>();
    await expect(status(mallory.basic, id)).rejects.toThrow(/404/);
    expect((await status(alice.basic, id)).id).toBe(id);
  });
});
