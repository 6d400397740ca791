// POST /v1/policy/recipient: the restriction lists for one recipient before any message exists,
// as an SMTP front asks at RCPT TO. A decision is a 200 carrying Postfix's reply; the login is the
// request's credentials (here a session token from the SASL endpoint, as the Node adapter uses).
import { describe, expect, it } from "vitest";
import { findMechanism } from "../../src/core/sasl/mechanisms.ts";
import { admin, call, newAccount, resetParameters, saslExchange, setParameters } from "./helpers.ts";

interface Decision {
  decision: "permit" | "reject" | "defer";
  smtp_reply?: string;
  smtp_status?: string;
  reply?: { code: number; enhanced: string; text: string };
  hold?: string;
  discard?: string;
}

function check(authorization: string | null, body: unknown): Promise<Response> {
  const headers: Record<string, string> = { "content-type": "application/json" };
  if (authorization) headers.authorization = authorization;
  return call("/v1/policy/recipient", { method: "POST", headers, body: JSON.stringify(body) });
}

async function decide(authorization: string | null, sender: string, recipient: string): Promise<Decision> {
  const res = await check(authorization, { sender, recipient, helo: "client.example" });
  expect(res.status).toBe(200);
  return res.json<Decision>();
}

async function sessionToken(login: string, password: string): Promise<string> {
  const plain = findMechanism("PLAIN")!.client({ authcid: login, password });
  const outcome = await saslExchange(plain, "PLAIN");
  expect(outcome.status).toBe(200);
  return `Bearer ${outcome.body.token as string}`;
}

describe("POST /v1/policy/recipient", () => {
  it("permits an owned sender for its login, with a session token from the SASL endpoint", async () => {
    const alice = await newAccount(["pol-alice@example.com"]);
    const token = await sessionToken(alice.login, alice.password);
    expect(await decide(token, "pol-alice@example.com", "someone@example.net")).toEqual({
      decision: "permit",
    });
    // Basic works as on the message route.
    expect((await decide(alice.basic, "pol-alice@example.com", "x@example.net")).decision).toBe("permit");
  });

  it("a session token works though the policy leaves OAUTHBEARER out (the exchange that made it was allowed)", async () => {
    await setParameters({ mech_list: "PLAIN SCRAM-SHA-256" });
    try {
      const alice = await newAccount(["pol-mech@example.com"]);
      const token = await sessionToken(alice.login, alice.password);
      expect((await decide(token, "pol-mech@example.com", "x@example.net")).decision).toBe("permit");
    } finally {
      await resetParameters(["mech_list"]);
    }
  });

  it("a sender the login does not own: reject with Postfix's 553 5.7.1", async () => {
    const alice = await newAccount(["pol-a2@example.com"]);
    await newAccount(["pol-b2@example.com"]);
    const token = await sessionToken(alice.login, alice.password);
    const decision = await decide(token, "pol-b2@example.com", "x@example.net");
    expect(decision).toMatchObject({
      decision: "reject",
      smtp_status: "5.7.1",
      smtp_reply: `553 5.7.1 <pol-b2@example.com>: Sender address rejected: not owned by user ${alice.login}`,
      reply: { code: 553, enhanced: "5.7.1" },
    });
  });

  it("without credentials: relay access denied, but relay_domains pass", async () => {
    expect(await decide(null, "stranger@example.org", "victim@example.net")).toMatchObject({
      decision: "reject",
      smtp_reply: "554 5.7.1 <victim@example.net>: Relay access denied",
    });
    await setParameters({ relay_domains: "inbound.example", smtpd_sender_restrictions: "" });
    try {
      expect((await decide(null, "stranger@example.org", "rcpt@inbound.example")).decision).toBe("permit");
      expect((await decide(null, "stranger@example.org", "rcpt@other.example")).decision).toBe("reject");
    } finally {
      await resetParameters(["relay_domains", "smtpd_sender_restrictions"]);
    }
  });

  it("check_sasl_access: DEFER is a 4xx decision, HOLD and DISCARD come back as marks", async () => {
    const slow = await newAccount(["pol-slow@example.com"]);
    await admin("PUT", `/maps/sasl_access/${encodeURIComponent(slow.login)}`, { value: "DEFER" });
    const deferred = await decide(slow.basic, "pol-slow@example.com", "x@example.net");
    expect(deferred.decision).toBe("defer");
    expect(deferred.smtp_reply).toMatch(/^450 4\.7\.1 /);

    const held = await newAccount(["pol-held@example.com"]);
    await admin("PUT", `/maps/sasl_access/${encodeURIComponent(held.login)}`, { value: "HOLD review" });
    expect(await decide(held.basic, "pol-held@example.com", "x@example.net")).toEqual({
      decision: "permit",
      hold: `<${held.login}>: SASL login name review`,
    });
    const gone = await newAccount(["pol-gone@example.com"]);
    await admin("PUT", `/maps/sasl_access/${encodeURIComponent(gone.login)}`, { value: "DISCARD" });
    expect((await decide(gone.basic, "pol-gone@example.com", "x@example.net")).discard).toBeDefined();
  });

  it("an access action that does not parse defers (451 4.3.5), never permits", async () => {
    const alice = await newAccount(["pol-cfg@example.com"]);
    // Stored parameters are validated, so the broken restriction comes from a table.
    await admin("PUT", `/maps/sasl_access/${encodeURIComponent(alice.login)}`, { value: "no_such_thing" });
    const decision = await decide(alice.basic, "pol-cfg@example.com", "x@example.net");
    expect(decision.decision).toBe("defer");
    expect(decision.smtp_reply).toMatch(/^451 4\.3\.5 /);
  });

  it("bad credentials are a 401 problem, bad addresses a 422, bad JSON a 400", async () => {
    const alice = await newAccount(["pol-bad@example.com"]);
    const wrong = await check(`Basic ${btoa(`${alice.login}:nope`)}`, {
      sender: "pol-bad@example.com",
      recipient: "x@example.net",
    });
    expect(wrong.status).toBe(401);
    expect((await wrong.json<{ smtp_status: string }>()).smtp_status).toBe("5.7.8");
    const forged = await check("Bearer pst.not-a-token", { sender: "", recipient: "x@example.net" });
    expect(forged.status).toBe(401);
    const bad = await check(alice.basic, { sender: "pol-bad@example.com", recipient: "no at sign" });
    expect(bad.status).toBe(422);
    expect(await bad.json()).toMatchObject({ smtp_status: "5.1.3" });
    const badSender = await check(alice.basic, { sender: "a b@c", recipient: "x@example.net" });
    expect(await badSender.json()).toMatchObject({ smtp_status: "5.1.7" });
    const notJson = await call("/v1/policy/recipient", {
      method: "POST",
      headers: { "content-type": "application/json", authorization: alice.basic },
      body: "{",
    });
    expect(notJson.status).toBe(400);
  });

  it("is in the OpenAPI document", async () => {
    const doc = await (await call("/openapi.json")).json<{
      paths: Record<string, Record<string, unknown>>;
    }>();
    expect(doc.paths["/v1/policy/recipient"]?.post).toMatchObject({ operationId: "checkRecipient" });
  });
});
