// Authorization with Postfix's restriction semantics: sender ownership, relay permission and
// per-login access actions (check_sasl_access), each answered with Postfix's reply.
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it } from "vitest";
import { admin, call, newAccount, resetParameters, setParameters, submitJson, submitRaw } from "./helpers.ts";

const msg = (from: string, to = ["rcpt@example.net"]) => ({ from, to, subject: "s", text: "x" });

describe("sender ownership (smtpd_sender_login_maps)", () => {
  afterEach(() => resetParameters(["smtpd_sender_restrictions"]));

  it("rejects a sender the login does not own (default reject_sender_login_mismatch): 403, 5.7.1", async () => {
    const alice = await newAccount(["alice-own@example.com"]);
    await newAccount(["bob-own@example.com"]);
    const res = await submitJson(alice.basic, msg("bob-own@example.com"));
    expect(res.status).toBe(403);
    const problem = await res.json<{ smtp_reply: string; smtp_status: string }>();
    expect(problem.smtp_status).toBe("5.7.1");
    expect(problem.smtp_reply).toBe(
      `553 5.7.1 <bob-own@example.com>: Sender address rejected: not owned by user ${alice.login}`,
    );
  });

  it("rejects an unlisted sender for an authenticated login, and accepts an owned one", async () => {
    const alice = await newAccount(["alice2@example.com"]);
    expect((await submitJson(alice.basic, msg("unlisted@example.com"))).status).toBe(403);
    expect((await submitJson(alice.basic, msg("alice2@example.com"))).status).toBe(202);
  });

  it("falls back to @domain and compares owners case-insensitively", async () => {
    const alice = await newAccount([]);
    await admin("PUT", `/maps/sender_login/${encodeURIComponent("@wild.example")}`, {
      value: `other, ${alice.login.toUpperCase()}`,
    });
    expect((await submitJson(alice.basic, msg("anyone@wild.example"))).status).toBe(202);
  });

  it("reject_known_sender_login_mismatch lets unlisted senders pass but not someone else's", async () => {
    await setParameters({ smtpd_sender_restrictions: "reject_known_sender_login_mismatch" });
    const alice = await newAccount(["known-a@example.com"]);
    await newAccount(["known-b@example.com"]);
    expect((await submitJson(alice.basic, msg("free@example.com"))).status).toBe(202);
    expect((await submitJson(alice.basic, msg("known-b@example.com"))).status).toBe(403);
  });

  it("reject_unauthenticated_sender_login_mismatch refuses a listed sender without login ('not logged in')", async () => {
    await setParameters({
      smtpd_sender_restrictions: "reject_unauthenticated_sender_login_mismatch",
      mynetworks: "0.0.0.0/0",
    });
    try {
      await newAccount(["listed@example.com"]);
      const res = await submitJson(null, msg("listed@example.com"), { "cf-connecting-ip": "198.51.100.1" });
      expect(res.status).toBe(401);
      expect((await res.json<{ smtp_reply: string }>()).smtp_reply).toBe(
        "553 5.7.1 <listed@example.com>: Sender address rejected: not logged in",
      );
    } finally {
      await resetParameters(["mynetworks"]);
    }
  });

  it("reject_authenticated_sender_login_mismatch ignores unauthenticated clients", async () => {
    await setParameters({
      smtpd_sender_restrictions: "reject_authenticated_sender_login_mismatch",
      mynetworks: "0.0.0.0/0",
    });
    try {
      await newAccount(["authonly@example.com"]);
      const res = await submitJson(null, msg("authonly@example.com"), { "cf-connecting-ip": "198.51.100.1" });
      expect(res.status).toBe(202);
    } finally {
      await resetParameters(["mynetworks"]);
    }
  });
});

describe("relay permission (smtpd_relay_restrictions)", () => {
  it("refuses to relay for a client without credentials: 401 with 554 5.7.1 Relay access denied", async () => {
    const res = await submitJson(null, msg("stranger@example.org", ["victim@example.net"]));
    expect(res.status).toBe(401);
    expect(res.headers.get("www-authenticate")).toContain("Basic");
    expect(await res.json()).toMatchObject({
      smtp_status: "5.7.1",
      smtp_reply: "554 5.7.1 <victim@example.net>: Relay access denied",
    });
    const raw = await submitRaw(
      null,
      "stranger@example.org",
      ["victim@example.net"],
      "Subject: x\r\n\r\nx\r\n",
    );
    expect(raw.status).toBe(401);
  });

  it("permits clients in mynetworks (CF-Connecting-IP) and no one else", async () => {
    await setParameters({ mynetworks: "192.0.2.0/24, [2001:db8::]/32", smtpd_sender_restrictions: "" });
    try {
      const from = (ip: string) =>
        call("/v1/messages", {
          method: "POST",
          headers: { "content-type": "application/json", "cf-connecting-ip": ip },
          body: JSON.stringify(msg("app@example.org")),
        });
      expect((await from("192.0.2.7")).status).toBe(202);
      expect((await from("2001:db8::5")).status).toBe(202);
      expect((await from("198.51.100.7")).status).toBe(401);
    } finally {
      await resetParameters(["mynetworks", "smtpd_sender_restrictions"]);
    }
  });
});

describe("per-login access actions (check_sasl_access)", () => {
  it("REJECT with text answers with the table's text", async () => {
    const eve = await newAccount(["eve@example.com"]);
    await admin("PUT", `/maps/sasl_access/${encodeURIComponent(eve.login)}`, {
      value: "REJECT 5.7.1 account suspended for abuse",
    });
    const res = await submitJson(eve.basic, msg("eve@example.com"));
    expect(res.status).toBe(403);
    expect((await res.json<{ smtp_reply: string }>()).smtp_reply).toBe(
      `554 5.7.1 <${eve.login}>: SASL login name rejected: account suspended for abuse`,
    );
  });

  it("DEFER answers 503 with Retry-After and a 4.7.1 code", async () => {
    const slow = await newAccount(["slow@example.com"]);
    await admin("PUT", `/maps/sasl_access/${encodeURIComponent(slow.login)}`, { value: "DEFER" });
    const res = await submitJson(slow.basic, msg("slow@example.com"));
    expect(res.status).toBe(503);
    expect(res.headers.get("retry-after")).toBe("300");
    expect(await res.json()).toMatchObject({ smtp_status: "4.7.1" });
  });

  it("HOLD keeps the message stored and undelivered until an admin releases it", async () => {
    const held = await newAccount(["held@example.com"]);
    await admin("PUT", `/maps/sasl_access/${encodeURIComponent(held.login)}`, {
      value: "HOLD review new sender",
    });
    const res = await submitJson(held.basic, msg("held@example.com", ["h1@example.net"]));
    expect(res.status).toBe(202);
    const { id, status } = await res.json<{ id: string; status: string }>();
    expect(status).toBe("held");
    const view = await (await admin("GET", `/queue/${id}`)).json<{
      status: string;
      status_reason: string;
      recipients: { status: string }[];
    }>();
    expect(view.status).toBe("held");
    expect(view.status_reason).toBe(`<${held.login}>: SASL login name review new sender`);
    expect(view.recipients[0]!.status).toBe("held");
    const list = await (await admin("GET", "/queue?state=held")).json<{ messages: { id: string }[] }>();
    expect(list.messages.map((m) => m.id)).toContain(id);
    const released = await admin("POST", `/queue/${id}/release`);
    expect(released.status).toBe(200);
    expect((await admin("POST", `/queue/${id}/release`)).status).toBe(409);
  });

  it("DISCARD claims success, stores no body and records the discard", async () => {
    const gone = await newAccount(["gone@example.com"]);
    await admin("PUT", `/maps/sasl_access/${encodeURIComponent(gone.login)}`, { value: "DISCARD" });
    const res = await submitJson(gone.basic, msg("gone@example.com"));
    expect(res.status).toBe(202);
    const { id, status } = await res.json<{ id: string; status: string }>();
    expect(status).toBe("discarded");
    expect(await env.BODIES.head(`bodies/${id}`)).toBeNull();
    const view = await (await admin("GET", `/queue/${id}`)).json<{ recipients: { status: string }[] }>();
    expect(view.recipients[0]!.status).toBe("discarded");
  });

  it("a held message can be deleted with its body", async () => {
    const held = await newAccount(["held2@example.com"]);
    await admin("PUT", `/maps/sasl_access/${encodeURIComponent(held.login)}`, { value: "HOLD" });
    const { id } = await (await submitJson(held.basic, msg("held2@example.com"))).json<{ id: string }>();
    expect((await admin("DELETE", `/queue/${id}`)).status).toBe(204);
    expect(await env.BODIES.head(`bodies/${id}`)).toBeNull();
    expect((await admin("GET", `/queue/${id}`)).status).toBe(404);
  });
});

describe("configuration is checked before it is stored", () => {
  it("refuses an unknown restriction, an unknown parameter and a malformed time", async () => {
    expect(
      (await admin("PUT", "/settings/smtpd_relay_restrictions", { value: "permit_everyone" })).status,
    ).toBe(422);
    expect((await admin("PUT", "/settings/no_such_parameter", { value: "x" })).status).toBe(404);
    expect((await admin("PUT", "/settings/minimal_backoff_time", { value: "soon" })).status).toBe(422);
    expect((await admin("PUT", "/settings/mynetworks", { value: "10.0.0.0/33" })).status).toBe(422);
  });
});
