// An account manages its own event endpoints with its own credentials.
import { describe, expect, it } from "vitest";
import { call, newAccount } from "./helpers.ts";

function as(authorization: string, method: string, path: string, body?: unknown): Promise<Response> {
  const headers: Record<string, string> = { authorization };
  if (body !== undefined) headers["content-type"] = "application/json";
  return call(`/v1/webhook-endpoints${path}`, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
}

describe("/v1/webhook-endpoints (self-service)", () => {
  it("create, list, rotate, delete — only the account's own endpoints", async () => {
    const alice = await newAccount();
    const bob = await newAccount();
    const created = await as(alice.basic, "POST", "", {
      url: "https://hooks.example.com/a",
      events: ["message.sent"],
    });
    expect(created.status).toBe(201);
    const ep = await created.json<{ id: string; secret: string; events: string[] }>();
    expect(ep.secret).toMatch(/^whsec_/);
    expect(ep.events).toEqual(["message.sent"]);

    const list = await (await as(alice.basic, "GET", "")).json<{ endpoints: { id: string }[] }>();
    expect(list.endpoints.map((e) => e.id)).toEqual([ep.id]);
    expect(JSON.stringify(list)).not.toContain(ep.secret);
    // Someone else's endpoint is answered like a missing one.
    expect((await as(bob.basic, "GET", `/${ep.id}`)).status).toBe(404);
    expect((await as(bob.basic, "DELETE", `/${ep.id}`)).status).toBe(404);
    expect((await (await as(bob.basic, "GET", "")).json<{ endpoints: unknown[] }>()).endpoints).toEqual([]);

    const rotated = await (await as(alice.basic, "PATCH", `/${ep.id}`, { rotate_secret: true })).json<{
      secret: string;
    }>();
    expect(rotated.secret).toMatch(/^whsec_/);
    expect(rotated.secret).not.toBe(ep.secret);
    expect((await as(alice.basic, "GET", `/${ep.id}/events`)).status).toBe(200);
    expect((await as(alice.basic, "DELETE", `/${ep.id}`)).status).toBe(204);
    expect((await as(alice.basic, "GET", `/${ep.id}`)).status).toBe(404);
  });

  const refused: [string, string][] = [
    ["http://hooks.example.com/", "must be https"],
    ["https://127.0.0.1:8787/v1/admin/accounts", "loopback"],
    ["https://169.254.169.254/", "linkLocal"],
    ["https://localhost/", "public host"],
  ];
  for (const [url, why] of refused) {
    it(`refuses ${url} (${why})`, async () => {
      const a = await newAccount();
      const res = await as(a.basic, "POST", "", { url });
      expect(res.status).toBe(422);
      expect(await res.text()).toContain(why);
    });
  }

  it("needs credentials, and refuses wrong ones", async () => {
    const none = await call("/v1/webhook-endpoints");
    expect(none.status).toBe(401);
    expect(none.headers.get("www-authenticate")).toBeTruthy();
    const a = await newAccount();
    expect((await as(a.basic.replace(/.$/, "A"), "GET", "")).status).toBe(401);
  });
});

describe("the webhook routes in /openapi.json", () => {
  it("are described from their route definitions", async () => {
    const doc = await (await call("/openapi.json")).json<{
      paths: Record<string, Record<string, { operationId: string }>>;
    }>();
    expect(doc.paths["/v1/webhooks/{id}"]?.post?.operationId).toBe("receiveWebhook");
    expect(doc.paths["/v1/webhook-endpoints"]?.post?.operationId).toBe("createWebhookEndpoint");
    expect(doc.paths["/v1/webhook-endpoints/{id}/events"]?.get?.operationId).toBe(
      "listWebhookEndpointEvents",
    );
    expect(doc.paths["/v1/admin/webhooks/receivers"]?.post?.operationId).toBe("createWebhookReceiver");
    expect(doc.paths["/v1/admin/accounts/{login}/templates/{name}"]?.put?.operationId).toBe("putTemplate");
  });
});
