// GET /v1/auth/sasl also says what an SMTP front should announce (smtp_mechanisms): CRAM-MD5 and
// DIGEST-MD5 only while some account keeps a shared secret, as the embedded listener does.
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { admin, call } from "./helpers.ts";

interface Listing {
  mechanisms: string[];
  smtp_mechanisms: string[];
}

const listing = async () => (await call("/v1/auth/sasl")).json<Listing>();

describe("GET /v1/auth/sasl: smtp_mechanisms", () => {
  it("leaves CRAM-MD5 and DIGEST-MD5 out until an account has a shared secret", async () => {
    const any = await env.DB.prepare(
      "select 1 from accounts where shared_secret is not null limit 1",
    ).first();
    const before = await listing();
    expect(before.mechanisms).toEqual(expect.arrayContaining(["CRAM-MD5", "DIGEST-MD5", "PLAIN"]));
    if (any === null) {
      expect(before.smtp_mechanisms).toEqual(
        before.mechanisms.filter((name) => name !== "CRAM-MD5" && name !== "DIGEST-MD5"),
      );
    }
    const res = await admin("POST", "/accounts", {
      login: `cram-${crypto.randomUUID().slice(0, 8)}@example.com`,
      password: "a shared secret password",
      shared_secret: true,
    });
    expect(res.status).toBe(201);
    const after = await listing();
    expect(after.smtp_mechanisms).toEqual(after.mechanisms);
  });
});
