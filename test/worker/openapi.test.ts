// The OpenAPI document is generated inside the Workers runtime too (its full check against the
// OpenAPI 3.1 schema runs on Node: test/node/apps-api.test.ts).
import { describe, expect, it } from "vitest";
import { call } from "./helpers.ts";

describe("GET /openapi.json on Workers", () => {
  it("serves the generated document with the message routes", async () => {
    const res = await call("/openapi.json");
    expect(res.status).toBe(200);
    const doc = await res.json<{ openapi: string; paths: Record<string, unknown> }>();
    expect(doc.openapi).toBe("3.1.0");
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining(["/v1/messages", "/v1/messages/batch", "/v1/messages/{id}", "/v1/auth/sasl"]),
    );
  });
});
