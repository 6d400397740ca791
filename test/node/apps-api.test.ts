// The apps API on the Node runtime (SQLite, disk bodies): Idempotency-Key under concurrent
// retries, batches, and the generated OpenAPI document checked against the OpenAPI 3.1 schema.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { Validator } from "@seriousme/openapi-schema-validator";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningNodeServer, startNodeServer } from "../../src/node/node-server.ts";

const ADMIN = "apps-admin-token-0123456789";
const LOGIN = "app@example.com";
const PASSWORD = "app-password-0123";
const BASIC = `Basic ${Buffer.from(`${LOGIN}:${PASSWORD}`).toString("base64")}`;
const scratch = mkdtempSync(path.join(tmpdir(), "postern-apps-"));
let server: RunningNodeServer;

const post = (route: string, body: unknown, headers: Record<string, string> = {}) =>
  fetch(server.url + route, {
    method: "POST",
    headers: { authorization: BASIC, "content-type": "application/json", ...headers },
    body: JSON.stringify(body),
  });

async function admin(method: string, route: string, body?: unknown): Promise<void> {
  const res = await fetch(`${server.url}/v1/admin${route}`, {
    method,
    headers: { authorization: `Bearer ${ADMIN}`, "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (!res.ok) throw new Error(`${method} ${route}: ${res.status} ${await res.text()}`);
}

async function messageCount(): Promise<number> {
  const result = await server.node.database.client.execute("select count(*) as n from messages");
  return Number(result.rows[0]!.n);
}

const msg = (subject: string) => ({ from: LOGIN, to: ["rcpt@example.net"], subject, text: "hi" });

beforeAll(async () => {
  // No relayhost: messages stay queued (deferred), which is all these tests look at.
  server = await startNodeServer({ dataDir: scratch, port: 0, adminToken: ADMIN });
  await admin("POST", "/accounts", { login: LOGIN, password: PASSWORD });
  await admin("PUT", `/maps/sender_login/${encodeURIComponent(LOGIN)}`, { value: LOGIN });
});

afterAll(async () => {
  await server?.stop(0);
  rmSync(scratch, { recursive: true, force: true });
});

describe("Idempotency-Key on the Node runtime", () => {
  it("stores one message under 20 concurrent retries, and replays the first answer", async () => {
    const before = await messageCount();
    const key = { "idempotency-key": "node-race" };
    const answers = await Promise.all(
      Array.from({ length: 20 }, () => post("/v1/messages", msg("race"), key)),
    );
    const ids = new Set<string>();
    for (const res of answers) {
      expect([202, 409]).toContain(res.status);
      if (res.status === 202) ids.add(((await res.json()) as { id: string }).id);
      else await res.arrayBuffer();
    }
    expect(ids.size).toBe(1);
    expect(await messageCount()).toBe(before + 1);
    const replay = await post("/v1/messages", msg("race"), key);
    expect(replay.headers.get("idempotent-replayed")).toBe("true");
    expect(((await replay.json()) as { id: string }).id).toBe([...ids][0]);
    expect((await post("/v1/messages", msg("other"), key)).status).toBe(422);
  });

  it("answers a batch per message, with one write for the accepted ones", async () => {
    const before = await messageCount();
    const res = await post("/v1/messages/batch", [
      msg("b1"),
      { ...msg("b2"), from: "else@example.org" },
      msg("b3"),
    ]);
    expect(res.status).toBe(200);
    const { results } = (await res.json()) as { results: { status: number }[] };
    expect(results.map((r) => r.status)).toEqual([202, 403, 202]);
    expect(await messageCount()).toBe(before + 2);
  });
});

describe("OpenAPI document", () => {
  let doc: {
    openapi: string;
    paths: Record<string, Record<string, Record<string, unknown>>>;
    components: { schemas: Record<string, unknown> };
  };
  beforeAll(async () => {
    const res = await fetch(`${server.url}/openapi.json`);
    expect(res.status).toBe(200);
    doc = (await res.json()) as typeof doc;
  });

  it("is a valid OpenAPI 3.1 document", async () => {
    expect(doc.openapi).toBe("3.1.0");
    const result = await new Validator().validate(doc as unknown as Parameters<Validator["validate"]>[0]);
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
  });

  it("names every public route with its method", () => {
    const operations = Object.entries(doc.paths).flatMap(([route, item]) =>
      Object.keys(item).map((method) => `${method.toUpperCase()} ${route}`),
    );
    expect(operations).toEqual(
      expect.arrayContaining([
        "POST /v1/messages",
        "POST /v1/messages/batch",
        "GET /v1/messages/{id}",
        "GET /v1/auth/sasl",
        "POST /v1/auth/sasl",
        "POST /v1/admin/accounts",
        "PUT /v1/admin/settings/{name}",
        "GET /v1/admin/queue",
      ]),
    );
  });

  it("carries the request validators' schemas and the answers' schemas", () => {
    const send = doc.paths["/v1/messages"]!.post as {
      requestBody: {
        content: Record<string, { schema: { properties?: Record<string, unknown>; required?: string[] } }>;
      };
      responses: Record<string, { content: Record<string, { schema: { $ref?: string } }> }>;
      parameters: { name: string; in: string }[];
    };
    const json = send.requestBody.content["application/json"]!.schema;
    expect(Object.keys(json.properties ?? {})).toEqual(
      expect.arrayContaining([
        "from",
        "to",
        "cc",
        "bcc",
        "subject",
        "text",
        "html",
        "headers",
        "attachments",
      ]),
    );
    expect(json.required).toEqual(expect.arrayContaining(["from", "subject"]));
    expect(send.requestBody.content["message/rfc822"]).toBeDefined();
    expect(send.parameters.map((p) => `${p.in}:${p.name}`)).toContain("header:Idempotency-Key");
    expect(send.responses["202"]!.content["application/json"]!.schema.$ref).toBe(
      "#/components/schemas/Accepted",
    );
    expect(send.responses["422"]!.content["application/problem+json"]!.schema.$ref).toBe(
      "#/components/schemas/Problem",
    );

    const batch = doc.paths["/v1/messages/batch"]!.post as {
      requestBody: { content: Record<string, { schema: { type: string; maxItems: number } }> };
    };
    expect(batch.requestBody.content["application/json"]!.schema).toMatchObject({
      type: "array",
      maxItems: 100,
    });
    expect(Object.keys(doc.components.schemas)).toEqual(
      expect.arrayContaining([
        "Accepted",
        "Problem",
        "BatchResult",
        "SubmissionAnswer",
        "MessageStatus",
        "SaslStep",
      ]),
    );

    const status = doc.paths["/v1/messages/{id}"]!.get as { parameters: { name: string; in: string }[] };
    expect(status.parameters).toContainEqual(
      expect.objectContaining({ name: "id", in: "path", required: true }),
    );

    const sasl = doc.paths["/v1/auth/sasl"]!.post as {
      requestBody: { content: Record<string, { schema: { properties: Record<string, unknown> } }> };
    };
    expect(Object.keys(sasl.requestBody.content["application/json"]!.schema.properties)).toEqual(
      expect.arrayContaining(["mechanism", "response", "continuation"]),
    );
  });

  it("serves an interactive reference page that reads the document", async () => {
    const res = await fetch(`${server.url}/reference`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain("text/html");
    expect(await res.text()).toContain('createApiReference("#app", { url: "/openapi.json" })');
  });
});
