// smtpd_sasl_type = dovecot on the Workers runtime: Postern hands PLAIN and LOGIN to a real Dovecot
// auth service (over connect()) and takes its verdict, for HTTP Basic and the SASL endpoint alike.
import { env } from "cloudflare:workers";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { findMechanism } from "../../src/core/sasl/mechanisms.ts";
import {
  admin,
  basic,
  call,
  resetParameters,
  saslExchange,
  setParameters,
  status,
  submitJson,
} from "./helpers.ts";

const dovecot = JSON.parse(env.TEST_DOVECOT!) as { host: string; port: number };
const message = { from: "alice@dovecot.example", to: ["r@example.net"], subject: "via dovecot", text: "x" };

describe("smtpd_sasl_type = dovecot", () => {
  beforeAll(async () => {
    await setParameters({
      smtpd_sasl_type: "dovecot",
      smtpd_sasl_path: `inet:${dovecot.host}:${dovecot.port}`,
    });
    await admin("PUT", `/maps/sender_login/${encodeURIComponent("alice@dovecot.example")}`, {
      value: "alice",
    });
  });
  afterAll(() => resetParameters(["smtpd_sasl_type", "smtpd_sasl_path"]));

  it("verifies HTTP Basic with Dovecot: its users need no Postern account, and own their messages", async () => {
    const res = await submitJson(basic("alice", "alice-secret"), message);
    expect(res.status).toBe(202);
    const { id } = await res.json<{ id: string }>();
    expect((await status(basic("alice", "alice-secret"), id)).id).toBe(id);
    // bob is another Dovecot user: he may not read alice's message.
    await expect(status(basic("bob", "bob-secret"), id)).rejects.toThrow(/404/);
    expect((await submitJson(basic("alice", "wrong-secret"), message)).status).toBe(401);
    expect((await submitJson(basic("nobody", "alice-secret"), message)).status).toBe(401);
  });

  it("offers only what Dovecot can do statelessly (PLAIN, LOGIN) and runs both through it", async () => {
    const offered = await (await call("/v1/auth/sasl")).json<{ mechanisms: string[]; backend: string }>();
    expect(offered).toEqual({
      mechanisms: ["PLAIN", "LOGIN"],
      smtp_mechanisms: ["PLAIN", "LOGIN"],
      tls: true,
      backend: "dovecot",
    });
    for (const mechanism of ["PLAIN", "LOGIN"]) {
      const client = findMechanism(mechanism)!.client({ authcid: "bob", password: "bob-secret" });
      const ok = await saslExchange(client, mechanism);
      expect(ok.body, mechanism).toMatchObject({ status: "authenticated", login: "bob", mechanism });
      const wrong = findMechanism(mechanism)!.client({ authcid: "bob", password: "nope" });
      expect((await saslExchange(wrong, mechanism)).status).toBe(401);
    }
    const scram = findMechanism("SCRAM-SHA-256")!.client({ authcid: "bob", password: "bob-secret" });
    const refused = await saslExchange(scram, "SCRAM-SHA-256");
    expect(refused.body).toMatchObject({ smtp_status: "5.5.4" });
  });

  it("answers 503 / 4.7.0 when Dovecot cannot be reached, never a permit", async () => {
    await setParameters({ smtpd_sasl_path: "inet:127.0.0.1:1" });
    try {
      const res = await submitJson(basic("alice", "alice-secret"), message);
      expect(res.status).toBe(503);
      expect(await res.json()).toMatchObject({ smtp_status: "4.7.0" });
    } finally {
      await setParameters({ smtpd_sasl_path: `inet:${dovecot.host}:${dovecot.port}` });
    }
  });
});
