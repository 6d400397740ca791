// The relay client's credentials beyond the password maps: managed OAuth 2.0 credentials for
// XOAUTH2 / OAUTHBEARER smarthosts (secrets go in, never come out), the smtp_sasl_auth_cache_name
// entries (what a smarthost refused, and when it will be tried again), and key rotation.
import { Hono } from "hono";
import { z } from "zod";
import { ProblemError } from "../problem.ts";
import type { AppEnv } from "../services.ts";
import { parseJson } from "./parse-json.ts";

const NAME = /^[A-Za-z0-9_.@-]{1,64}$/;
const ONE_LINE = /^[^\x00-\x1f\x7f]*$/;
const secret = z.string().min(1).max(8192).regex(ONE_LINE, "one line, no control characters");

const oauth2Body = z.object({
  token_endpoint: z
    .string()
    .max(2048)
    .refine(isTokenEndpoint, "an https:// URL (http:// only to a loopback address)"),
  client_id: z.string().min(1).max(512).regex(ONE_LINE),
  client_secret: secret.optional(),
  refresh_token: secret,
  scope: z.string().max(1024).regex(ONE_LINE).optional(),
});

export const adminRelay = new Hono<AppEnv>();

adminRelay.get("/oauth2", async (c) => {
  return c.json({ credentials: await c.get("services").relayAuth.listOAuth2() });
});

adminRelay.put("/oauth2/:name", async (c) => {
  const name = credentialName(c.req.param("name"));
  const body = await parseJson(c.req.raw, oauth2Body);
  await c.get("services").relayAuth.putOAuth2(name, {
    tokenEndpoint: body.token_endpoint,
    clientId: body.client_id,
    clientSecret: body.client_secret ?? null,
    refreshToken: body.refresh_token,
    scope: body.scope ?? null,
  });
  // A changed credential is worth trying again at once.
  await c.get("services").relayAuth.clearAuthCache();
  return c.json({ name, password_map_value: `oauth2:${name}` }, 200);
});

adminRelay.delete("/oauth2/:name", async (c) => {
  const deleted = await c.get("services").relayAuth.deleteOAuth2(credentialName(c.req.param("name")));
  if (!deleted) throw new ProblemError({ slug: "not-found", title: "Not found", status: 404 });
  return c.body(null, 204);
});

adminRelay.get("/auth-cache", async (c) => {
  return c.json({ entries: await c.get("services").relayAuth.listAuthCache() });
});

adminRelay.delete("/auth-cache", async (c) => {
  const username = c.req.query("username");
  return c.json({ cleared: await c.get("services").relayAuth.clearAuthCache(username || undefined) });
});

/** Key rotation: after prepending a new key to POSTERN_SECRET_KEY, re-seal everything under it. */
adminRelay.post("/reseal", async (c) => {
  const services = c.get("services");
  const mapEntries = await services.maps.resealSecrets();
  const oauth2 = await services.relayAuth.resealOAuth2();
  return c.json({ key: services.secretKeys?.current ?? null, resealed: { map_entries: mapEntries, oauth2 } });
});

function credentialName(name: string): string {
  if (!NAME.test(name)) {
    throw new ProblemError({
      slug: "invalid-request",
      title: "Invalid credential name",
      status: 422,
      detail: "names are 1-64 of A-Z a-z 0-9 _ . @ -",
    });
  }
  return name;
}

function isTokenEndpoint(value: string): boolean {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return false;
  }
  if (url.username || url.password) return false;
  if (url.protocol === "https:") return true;
  return url.protocol === "http:" && ["127.0.0.1", "[::1]", "localhost"].includes(url.hostname);
}
