// The relay credential storage on a real SQLite file (the D1 code paths): OAuth2 secrets sealed and
// bound to their row, a refresh racing an admin edit, the auth cache keyed by an HMAC, and key
// rotation: a new key prepended to the ring, everything re-sealed, the old key dropped.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseKeyRing } from "../../src/core/auth/secret-box.ts";
import { accessToken } from "../../src/core/delivery/oauth2-token.ts";
import { DbMapStore } from "../../src/db/map-store.ts";
import { DbRelayAuthStore } from "../../src/db/relay-auth-store.ts";
import { mapEntries, relayOAuth2, saslAuthCache } from "../../src/db/schema.ts";
import { applyMigrations, openSqliteDatabase, type SqliteDatabase } from "../../src/node/sqlite-database.ts";

const K1 = `k1:${Buffer.alloc(32, 1).toString("base64")}`;
const K2 = `k2:${Buffer.alloc(32, 2).toString("base64")}`;
const scratch = mkdtempSync(path.join(tmpdir(), "postern-relay-store-"));
let database: SqliteDatabase;

beforeAll(async () => {
  database = await openSqliteDatabase(path.join(scratch, "relay.db"));
  await applyMigrations(database);
});

afterAll(() => {
  database?.close();
  rmSync(scratch, { recursive: true, force: true });
});

const input = {
  tokenEndpoint: "https://idp.example/token",
  clientId: "app",
  clientSecret: "client-secret-1",
  refreshToken: "refresh-1",
  scope: "SMTP.Send",
};

describe("DbRelayAuthStore", () => {
  it("seals every OAuth2 secret; the row holds no plaintext; a row copied to another name does not open", async () => {
    const store = new DbRelayAuthStore(database.db, parseKeyRing(K1));
    await store.putOAuth2("a", input);
    await store.saveTokens("a", 1, { accessToken: "access-1", expiresAt: 5_000, refreshToken: "refresh-2" });
    const rows = await database.db.select().from(relayOAuth2).all();
    const raw = JSON.stringify(rows);
    for (const secret of ["client-secret-1", "refresh-1", "refresh-2", "access-1"])
      expect(raw).not.toContain(secret);
    expect(await store.load("a")).toMatchObject({
      clientSecret: "client-secret-1",
      refreshToken: "refresh-2",
      accessToken: "access-1",
      accessTokenExpiresAt: 5_000,
      version: 1,
    });
    const row = rows.find((r) => r.name === "a")!;
    await database.db.insert(relayOAuth2).values({ ...row, name: "b" });
    await expect(store.load("b")).rejects.toMatchObject({ code: "ERR_SECRET_INTEGRITY" });
    await store.deleteOAuth2("b");
  });

  it("a refresh that finishes after an admin edit does not overwrite the new credential", async () => {
    const store = new DbRelayAuthStore(database.db, parseKeyRing(K1));
    await store.putOAuth2("race", input);
    const before = (await store.load("race"))!;
    await store.putOAuth2("race", { ...input, refreshToken: "admin-new" });
    await store.saveTokens("race", before.version, {
      accessToken: "late",
      expiresAt: 9,
      refreshToken: "stale",
    });
    expect(await store.load("race")).toMatchObject({
      refreshToken: "admin-new",
      accessToken: null,
      version: 2,
    });
  });

  it("accessToken() keeps a rotated refresh token and shares one refresh between concurrent callers", async () => {
    const store = new DbRelayAuthStore(database.db, parseKeyRing(K1));
    await store.putOAuth2("rotating", input);
    const calls: string[] = [];
    const fetcher = (async (_url: string, init: RequestInit) => {
      calls.push(new URLSearchParams(String(init.body)).get("refresh_token")!);
      await new Promise((resolve) => setTimeout(resolve, 20));
      return Response.json({
        access_token: `at-${calls.length}`,
        expires_in: "3600",
        refresh_token: `rt-${calls.length}`,
      });
    }) as typeof fetch;
    const [one, two] = await Promise.all([
      accessToken(store, "rotating", { fetch: fetcher, now: () => 1_000 }),
      accessToken(store, "rotating", { fetch: fetcher, now: () => 1_000 }),
    ]);
    expect(one).toEqual({ ok: true, token: "at-1" });
    expect(two).toEqual(one);
    expect(calls).toEqual(["refresh-1"]);
    expect(await store.load("rotating")).toMatchObject({
      refreshToken: "rt-1",
      accessTokenExpiresAt: 1_000 + 3_600_000,
    });
    // Still valid: no call. Near expiry: a refresh with the rotated token.
    expect(await accessToken(store, "rotating", { fetch: fetcher, now: () => 2_000 })).toEqual(one);
    expect(await accessToken(store, "rotating", { fetch: fetcher, now: () => 3_600_000 })).toEqual({
      ok: true,
      token: "at-2",
    });
    expect(calls).toEqual(["refresh-1", "rt-1"]);
  });

  it("accessToken() words a broken token endpoint without secrets", async () => {
    const store = new DbRelayAuthStore(database.db, parseKeyRing(K1));
    await store.putOAuth2("broken", input);
    const cases: [typeof fetch, string][] = [
      [(async () => new Response("oops", { status: 502 })) as typeof fetch, "HTTP 502 without a JSON body"],
      [
        (async () => Response.json({ token_type: "Bearer" })) as typeof fetch,
        "the response has no usable access_token",
      ],
      [
        (async () => Response.json({ access_token: "bad token\r\n" })) as typeof fetch,
        "the response has no usable access_token",
      ],
      [
        (async () => {
          throw new TypeError("fetch failed");
        }) as typeof fetch,
        "fetch failed",
      ],
    ];
    for (const [fetcher, why] of cases) {
      const got = await accessToken(store, "broken", { fetch: fetcher });
      expect(got).toEqual({
        ok: false,
        reason: `OAuth2 token refresh for "broken" at https://idp.example/token failed: ${why}`,
      });
    }
  });

  it("the auth cache stores an HMAC, finds it until it expires, and keeps one entry per server and user", async () => {
    const store = new DbRelayAuthStore(database.db, parseKeyRing(K1));
    const entry = { server: "mx[mx]:587", username: "u", reply: "535 5.7.8 no", now: 1_000, ttlMs: 10_000 };
    await store.remember({ ...entry, secret: "pw-1" });
    expect(await store.find("mx[mx]:587", "u", "pw-1", 2_000)).toEqual({ reply: "535 5.7.8 no" });
    expect(await store.find("mx[mx]:587", "u", "pw-2", 2_000)).toBeNull();
    expect(await store.find("mx[mx]:587", "u", "pw-1", 11_000)).toBeNull();
    const rows = await database.db.select().from(saslAuthCache).all();
    expect(JSON.stringify(rows)).not.toContain("pw-1");
    expect(rows[0]!.key).toMatch(/^[0-9a-f]{64}$/);
    await store.remember({ ...entry, secret: "pw-2" });
    expect(await store.listAuthCache(2_000)).toEqual([
      { server: "mx[mx]:587", username: "u", reply: "535 5.7.8 no", createdAt: 1_000, expiresAt: 11_000 },
    ]);
    expect(await store.clearAuthCache("u")).toBe(1);
    // Without a key ring nothing is remembered (and nothing would be sealed either).
    const keyless = new DbRelayAuthStore(database.db, null);
    await keyless.remember({ ...entry, secret: "pw-1" });
    expect(await keyless.find("mx[mx]:587", "u", "pw-1", 2_000)).toBeNull();
  });

  it("key rotation: prepend k2, re-seal, drop k1; every secret still opens", async () => {
    const old = parseKeyRing(K1);
    await new DbMapStore(database.db, old).set("sasl_passwd", "[mx]:587", "u:map-password", true);
    await new DbRelayAuthStore(database.db, old).putOAuth2("rotated", input);

    const both = parseKeyRing(`${K2},${K1}`);
    const maps = new DbMapStore(database.db, both);
    const relay = new DbRelayAuthStore(database.db, both);
    expect(await maps.resealSecrets()).toBeGreaterThanOrEqual(1);
    expect(await relay.resealOAuth2()).toBeGreaterThanOrEqual(1);
    // Done once, nothing is left to do.
    expect(await maps.resealSecrets()).toBe(0);
    expect(await relay.resealOAuth2()).toBe(0);
    const kids = [
      ...(await database.db.select().from(mapEntries).all()).filter((r) => r.secret).map((r) => r.value),
      ...(await database.db.select().from(relayOAuth2).all()).flatMap((r) => [
        r.clientSecret,
        r.refreshToken,
      ]),
    ]
      .filter((v): v is string => v !== null)
      .map((v) => v.split(".")[1]);
    expect(new Set(kids)).toEqual(new Set(["k2"]));

    const onlyNew = parseKeyRing(K2);
    expect(await new DbMapStore(database.db, onlyNew).lookup("sasl_passwd", "[mx]:587")).toBe(
      "u:map-password",
    );
    expect(await new DbRelayAuthStore(database.db, onlyNew).load("rotated")).toMatchObject({
      clientSecret: "client-secret-1",
      refreshToken: "refresh-1",
    });
  });
});
