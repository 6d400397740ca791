// Lookup tables (the postmap of Postern): `d1:<table>` entries. Tables named by
// smtp_sasl_password_maps hold smarthost passwords and are always sealed.
import { Hono } from "hono";
import { z } from "zod";
import { describeAdmin } from "../openapi/describe.ts";
import { ProblemError } from "../problem.ts";
import type { AppEnv } from "../services.ts";
import { parseJson } from "./parse-json.ts";

const TABLE_NAME = /^[a-z0-9_.-]{1,64}$/;

const entryBody = z.object({
  value: z
    .string()
    .min(1)
    .max(4096)
    .regex(/^[^\x00-\x08\x0a-\x1f\x7f]*$/, "no line breaks or control characters"),
  secret: z.boolean().optional(),
});

/** OpenAPI descriptions (GET /openapi.json). */
const doc = {
  list: describeAdmin("listMapEntries", "List a lookup table (postmap -s)"),
  set: describeAdmin("setMapEntry", "Set a lookup table entry", entryBody),
  remove: describeAdmin("deleteMapEntry", "Delete a lookup table entry (postmap -d)"),
};

export const adminMaps = new Hono<AppEnv>();

adminMaps.use("/:table/*", async (c, next) => {
  if (!TABLE_NAME.test(c.req.param("table"))) {
    throw new ProblemError({
      slug: "invalid-request",
      title: "Invalid table name",
      status: 422,
      detail: "table names are 1-64 of a-z 0-9 _ . -",
    });
  }
  await next();
});

adminMaps.get("/:table", doc.list, async (c) => {
  if (!TABLE_NAME.test(c.req.param("table")))
    throw new ProblemError({ slug: "not-found", title: "Not found", status: 404 });
  return c.json({
    table: c.req.param("table"),
    entries: await c.get("services").maps.list(c.req.param("table")),
  });
});

adminMaps.put("/:table/:key", doc.set, async (c) => {
  const table = c.req.param("table");
  const key = decodeURIComponent(c.req.param("key"));
  if (key.length === 0 || key.length > 512 || /[\x00-\x20\x7f]/.test(key)) {
    throw new ProblemError({
      slug: "invalid-request",
      title: "Invalid key",
      status: 422,
      detail: "keys have no spaces or control characters",
    });
  }
  const body = await parseJson(c.req.raw, entryBody);
  const secret =
    body.secret === true || isPasswordTable(table, c.get("requestSettings").get("smtp_sasl_password_maps"));
  await c.get("services").maps.set(table, key, body.value, secret);
  if (isPasswordTable(table, c.get("requestSettings").get("smtp_sasl_password_maps"))) {
    // smtp_sasl_auth_cache_name: a changed credential is tried again at once.
    const delimiter = c.get("requestSettings").get("smtp_sasl_password_result_delimiter") || ":";
    await c.get("services").relayAuth.clearAuthCache(body.value.split(delimiter, 1)[0]);
  }
  return c.json({ table, key: key.toLowerCase(), secret }, 200);
});

adminMaps.delete("/:table/:key", doc.remove, async (c) => {
  const deleted = await c
    .get("services")
    .maps.delete(c.req.param("table"), decodeURIComponent(c.req.param("key")));
  if (!deleted)
    throw new ProblemError({ slug: "not-found", title: "Not found", status: 404, detail: "No such entry" });
  return c.body(null, 204);
});

/** d1: on Workers; sqlite: names the same store-backed tables on Node. */
function isPasswordTable(table: string, passwordMaps: string): boolean {
  const specs = passwordMaps.split(/[\s,]+/);
  return specs.includes(`d1:${table}`) || specs.includes(`sqlite:${table}`);
}
