// HTTP Basic with SASL PLAIN semantics, and the admin API's own credential.
import { exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { admin, basic, call, newAccount, submitJson } from "./helpers.ts";

const message = (from: string) => ({ from, to: ["r@example.net"], subject: "s", text: "x" });

describe("HTTP Basic authentication", () => {
  it("answers a wrong password and an unknown user identically: 401, WWW-Authenticate, 5.7.8", async () => {
    const alice = await newAccount(["auth1@example.com"]);
    const wrong = await submitJson(basic(alice.login, "not-the-password"), message("auth1@example.com"));
    const unknown = await submitJson(
      basic("nobody@example.com", "whatever-password"),
      message("auth1@example.com"),
    );
    for (const res of [wrong, unknown]) {
      expect(res.status).toBe(401);
      expect(res.headers.get("www-authenticate")).toContain('Basic realm="postern", charset="UTF-8"');
      expect(res.headers.get("content-type")).toBe("application/problem+json");
    }
    const [a, b] = [await wrong.json(), await unknown.json()];
    expect(a).toEqual(b);
    expect(a).toMatchObject({
      status: 401,
      smtp_status: "5.7.8",
      smtp_reply: "535 5.7.8 Error: authentication failed: authentication failure",
    });
  });

  it("accepts the right password, and refuses it once the account is disabled", async () => {
    const alice = await newAccount(["auth2@example.com"]);
    expect((await submitJson(alice.basic, message("auth2@example.com"))).status).toBe(202);
    expect(
      (await admin("PATCH", `/accounts/${encodeURIComponent(alice.login)}`, { disabled: true })).status,
    ).toBe(200);
    expect((await submitJson(alice.basic, message("auth2@example.com"))).status).toBe(401);
  });

  it("takes a new password at once and forgets the old one", async () => {
    const alice = await newAccount(["auth3@example.com"]);
    // Verified once, so the verification cache holds it: a password change must still win at once.
    expect((await submitJson(alice.basic, message("auth3@example.com"))).status).toBe(202);
    await admin("PATCH", `/accounts/${encodeURIComponent(alice.login)}`, {
      password: "a-brand-new-password",
    });
    expect((await submitJson(alice.basic, message("auth3@example.com"))).status).toBe(401);
    expect(
      (await submitJson(basic(alice.login, "a-brand-new-password"), message("auth3@example.com"))).status,
    ).toBe(202);
  });

  it("refuses Basic credentials over plain HTTP (538 5.7.11), except on loopback", async () => {
    const alice = await newAccount(["auth4@example.com"]);
    const over = (origin: string) => fetchVia(origin, alice.basic);
    const plain = await over("http://postern.example");
    expect(plain.status).toBe(403);
    expect(await plain.json()).toMatchObject({ smtp_status: "5.7.11" });
    expect((await over("http://127.0.0.1:8787")).status).toBe(202);
  });

  it("refuses malformed Basic credentials and other schemes with 401", async () => {
    for (const authorization of [
      "Basic !!!notbase64",
      `Basic ${btoa("no-colon")}`,
      "Digest username=x",
      `Basic ${btoa("a\u0000b:c")}`,
    ]) {
      const res = await submitJson(authorization, message("x@example.com"));
      expect(res.status, authorization).toBe(401);
    }
  });

  it("requires authentication to read a message's status", async () => {
    const res = await call("/v1/messages/01ARZ3NDEKTSV4RRFFQ69G5FAV");
    expect(res.status).toBe(401);
    expect(res.headers.get("www-authenticate")).toContain("Basic");
  });
});

describe("admin API", () => {
  it("is closed without the admin token, and with a wrong one", async () => {
    expect((await call("/v1/admin/accounts")).status).toBe(401);
    expect(
      (await call("/v1/admin/accounts", { headers: { authorization: "Bearer wrong-token-wrong-token" } }))
        .status,
    ).toBe(401);
    expect((await admin("GET", "/accounts")).status).toBe(200);
  });

  it("stores no password: only a SCRAM-SHA-256 record", async () => {
    const res = await admin("POST", "/accounts", {
      login: "scram@example.com",
      password: "correct horse battery",
    });
    expect(res.status).toBe(201);
    const listed = JSON.stringify(await (await admin("GET", "/accounts")).json());
    expect(listed).not.toContain("correct horse battery");
    const dup = await admin("POST", "/accounts", {
      login: "SCRAM@example.com",
      password: "another-password",
    });
    expect(dup.status).toBe(409);
  });

  it("generates a password when none is given and shows it once", async () => {
    const res = await admin("POST", "/accounts", { login: "generated@example.com" });
    const created = await res.json<{ password: string }>();
    expect(created.password).toMatch(/^[A-Za-z0-9_-]{24}$/);
    const again = await (await admin("GET", "/accounts/generated@example.com")).json();
    expect(again).not.toHaveProperty("password");
  });

  it("never lists a sealed smarthost password", async () => {
    await admin("PUT", "/maps/sasl_passwd/%5Bsmtp.example%5D%3A587", { value: "user:very-secret" });
    const listed = await (await admin("GET", "/maps/sasl_passwd")).json<{
      entries: { key: string; value: string | null; secret: boolean }[];
    }>();
    const entry = listed.entries.find((e) => e.key === "[smtp.example]:587");
    expect(entry).toMatchObject({ secret: true, value: null });
    expect(JSON.stringify(listed)).not.toContain("very-secret");
  });
});

function fetchVia(origin: string, authorization: string): Promise<Response> {
  return exports.default.fetch(
    new Request(`${origin}/v1/messages`, {
      method: "POST",
      headers: { authorization, "content-type": "application/json" },
      body: JSON.stringify(message("auth4@example.com")),
    }),
  );
}
