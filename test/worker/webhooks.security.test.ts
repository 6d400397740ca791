// Attacks on the webhook receivers and the admin views of their secrets.
import { beforeAll, describe, expect, it } from "vitest";
import { admin, newAccount } from "./helpers.ts";
import { accountId, createReceiver, messageCount, randomSecret, sendHook } from "./webhook-helpers.ts";

describe("webhook receivers under attack", () => {
  const secret = randomSecret();
  let path: string;
  let id: string;
  let owner: string;

  beforeAll(async () => {
    const a = await newAccount(["sec@hooks.example"]);
    owner = await accountId(a.login);
    await admin("PUT", `/accounts/${encodeURIComponent(a.login)}/templates/supabase-signup`, {
      subject: "Welcome {{ user_metadata.name }}",
      text: "code {{ token }}",
    });
    const r = await createReceiver({
      account: a.login,
      kind: "supabase",
      secret,
      config: { from: "sec@hooks.example" },
    });
    path = r.path;
    id = r.id;
  });

  const payload = (name: string) => ({
    user: { id: "u", email: "victim@example.net", user_metadata: { name } },
    email_data: { token: "1", token_hash: "h", redirect_to: "", email_action_type: "signup", site_url: "" },
  });

  it("a CR LF in a value that lands in the subject cannot add a header: 422, nothing stored", async () => {
    const before = await messageCount(owner);
    const res = await sendHook(path, payload("Ann\r\nBcc: evil@attacker.example"), { secret });
    expect(res.status).toBe(422);
    expect(await res.json()).toMatchObject({
      error: { http_code: 422, message: expect.stringContaining("subject") },
    });
    expect(await messageCount(owner)).toBe(before);
  });

  it("unsigned requests and signatures over a different body are refused", async () => {
    const unsigned = await (await import("./helpers.ts")).call(path, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(payload("x")),
    });
    expect(unsigned.status).toBe(401);
    const swapped = await sendHook(path, payload("x"), {
      secret,
      tamper: () => JSON.stringify(payload("y")),
    });
    expect(swapped.status).toBe(401);
  });

  it("a timestamp far in the future is refused (no pre-signed replays)", async () => {
    const res = await sendHook(path, payload("x"), { secret, at: new Date(Date.now() + 3600_000) });
    expect(res.status).toBe(401);
  });

  it("the admin API never shows a stored signing secret", async () => {
    const one = await (await admin("GET", `/webhooks/receivers/${id}`)).text();
    const all = await (await admin("GET", "/webhooks/receivers")).text();
    const bare = secret.slice("whsec_".length);
    expect(one).not.toContain(bare);
    expect(all).not.toContain(bare);
    expect(JSON.parse(one)).not.toHaveProperty("secret");
  });

  it("the admin API is closed without the admin token", async () => {
    const res = await (await import("./helpers.ts")).call("/v1/admin/webhooks/receivers");
    expect(res.status).toBe(401);
  });
});
