// Storage for the relay client's credentials beyond smtp_sasl_password_maps: managed OAuth 2.0
// credentials (client secret, refresh token and cached access token sealed with AES-GCM, each
// bound to its row and field) and the smtp_sasl_auth_cache_name table (a keyed hash of server,
// username and credential: the credential itself is never stored there).
import { bytesToHex } from "@noble/hashes/utils.js";
import { and, asc, eq, gt, lte, ne } from "drizzle-orm";
import { deriveKey } from "../core/auth/derive-key.ts";
import { hmacSha256, utf8 } from "../core/auth/digest.ts";
import { type KeyRing, openSecret, sealedKeyId, sealSecret } from "../core/auth/secret-box.ts";
import type { OAuth2Credential, OAuth2Store } from "../core/delivery/oauth2-token.ts";
import type { AuthFailureCache } from "../core/delivery/relay-auth.ts";
import type { Database } from "./database.ts";
import { relayOAuth2, saslAuthCache } from "./schema.ts";

export interface OAuth2Input {
  tokenEndpoint: string;
  clientId: string;
  clientSecret: string | null;
  refreshToken: string;
  scope: string | null;
}

/** What the admin API shows: never a secret. */
export interface OAuth2Summary {
  name: string;
  tokenEndpoint: string;
  clientId: string;
  scope: string | null;
  hasClientSecret: boolean;
  /** When the cached access token expires; null: none cached. */
  accessTokenExpiresAt: number | null;
  createdAt: number;
  updatedAt: number;
}

export interface AuthCacheEntry {
  server: string;
  username: string;
  reply: string;
  createdAt: number;
  expiresAt: number;
}

type Field = "client_secret" | "refresh_token" | "access_token";
const context = (name: string, field: Field) => `relay_oauth2:${name}:${field}`;

export class DbRelayAuthStore implements OAuth2Store, AuthFailureCache {
  readonly #db: Database;
  readonly #keys: KeyRing | null;
  #cacheKey: Promise<Uint8Array> | null = null;

  constructor(db: Database, keys: KeyRing | null) {
    this.#db = db;
    this.#keys = keys;
  }

  // --- OAuth 2.0 credentials ---

  /** Creates or replaces a credential; any cached access token is dropped. */
  async putOAuth2(name: string, input: OAuth2Input, now = Date.now()): Promise<void> {
    const keys = this.#requireKeys();
    const values = {
      tokenEndpoint: input.tokenEndpoint,
      clientId: input.clientId,
      clientSecret:
        input.clientSecret === null
          ? null
          : await sealSecret(keys, input.clientSecret, context(name, "client_secret")),
      refreshToken: await sealSecret(keys, input.refreshToken, context(name, "refresh_token")),
      scope: input.scope,
      accessToken: null,
      accessTokenExpiresAt: null,
      updatedAt: now,
    };
    const existing = await this.#row(name);
    if (existing) {
      await this.#db
        .update(relayOAuth2)
        .set({ ...values, version: existing.version + 1 })
        .where(eq(relayOAuth2.name, name));
    } else {
      await this.#db.insert(relayOAuth2).values({ name, ...values, version: 1, createdAt: now });
    }
  }

  async listOAuth2(): Promise<OAuth2Summary[]> {
    const rows = await this.#db.select().from(relayOAuth2).orderBy(asc(relayOAuth2.name)).all();
    return rows.map((row) => ({
      name: row.name,
      tokenEndpoint: row.tokenEndpoint,
      clientId: row.clientId,
      scope: row.scope,
      hasClientSecret: row.clientSecret !== null,
      accessTokenExpiresAt: row.accessToken === null ? null : row.accessTokenExpiresAt,
      createdAt: row.createdAt,
      updatedAt: row.updatedAt,
    }));
  }

  async deleteOAuth2(name: string): Promise<boolean> {
    const row = await this.#db.delete(relayOAuth2).where(eq(relayOAuth2.name, name)).returning().get();
    return row !== undefined;
  }

  async load(name: string): Promise<OAuth2Credential | null> {
    const row = await this.#row(name);
    if (!row) return null;
    const keys = this.#requireKeys();
    return {
      name,
      tokenEndpoint: row.tokenEndpoint,
      clientId: row.clientId,
      clientSecret:
        row.clientSecret === null
          ? null
          : await openSecret(keys, row.clientSecret, context(name, "client_secret")),
      refreshToken: await openSecret(keys, row.refreshToken, context(name, "refresh_token")),
      scope: row.scope,
      accessToken:
        row.accessToken === null
          ? null
          : await openSecret(keys, row.accessToken, context(name, "access_token")),
      accessTokenExpiresAt: row.accessTokenExpiresAt,
      version: row.version,
    };
  }

  async saveTokens(
    name: string,
    version: number,
    tokens: { accessToken: string; expiresAt: number; refreshToken: string },
  ): Promise<void> {
    const keys = this.#requireKeys();
    await this.#db
      .update(relayOAuth2)
      .set({
        accessToken: await sealSecret(keys, tokens.accessToken, context(name, "access_token")),
        accessTokenExpiresAt: tokens.expiresAt,
        refreshToken: await sealSecret(keys, tokens.refreshToken, context(name, "refresh_token")),
      })
      .where(and(eq(relayOAuth2.name, name), eq(relayOAuth2.version, version)));
  }

  async forgetAccessToken(name: string): Promise<void> {
    await this.#db
      .update(relayOAuth2)
      .set({ accessToken: null, accessTokenExpiresAt: null })
      .where(eq(relayOAuth2.name, name));
  }

  /** Re-seals every OAuth 2.0 secret under the current key; returns how many rows changed. */
  async resealOAuth2(): Promise<number> {
    const keys = this.#requireKeys();
    const rows = await this.#db.select().from(relayOAuth2).all();
    let changed = 0;
    for (const row of rows) {
      const reseal = async (value: string | null, field: Field) =>
        value === null || sealedKeyId(value) === keys.current
          ? value
          : sealSecret(
              keys,
              await openSecret(keys, value, context(row.name, field)),
              context(row.name, field),
            );
      const next = {
        clientSecret: await reseal(row.clientSecret, "client_secret"),
        refreshToken: (await reseal(row.refreshToken, "refresh_token")) as string,
        accessToken: await reseal(row.accessToken, "access_token"),
      };
      if (
        next.clientSecret === row.clientSecret &&
        next.refreshToken === row.refreshToken &&
        next.accessToken === row.accessToken
      )
        continue;
      await this.#db.update(relayOAuth2).set(next).where(eq(relayOAuth2.name, row.name));
      changed += 1;
    }
    return changed;
  }

  // --- smtp_sasl_auth_cache_name ---

  async find(
    server: string,
    username: string,
    secret: string,
    now: number,
  ): Promise<{ reply: string } | null> {
    const key = await this.#hash(server, username, secret);
    if (key === null) return null;
    const row = await this.#db
      .select()
      .from(saslAuthCache)
      .where(and(eq(saslAuthCache.key, key), gt(saslAuthCache.expiresAt, now)))
      .get();
    return row ? { reply: row.reply } : null;
  }

  async remember(entry: {
    server: string;
    username: string;
    secret: string;
    reply: string;
    now: number;
    ttlMs: number;
  }): Promise<void> {
    const key = await this.#hash(entry.server, entry.username, entry.secret);
    if (key === null) return;
    const values = { reply: entry.reply, createdAt: entry.now, expiresAt: entry.now + entry.ttlMs };
    // One entry per server and username: an older credential's entry says nothing any more.
    await this.#db.batch([
      this.#db
        .delete(saslAuthCache)
        .where(
          and(
            eq(saslAuthCache.server, entry.server),
            eq(saslAuthCache.username, entry.username),
            ne(saslAuthCache.key, key),
          ),
        ),
      this.#db
        .insert(saslAuthCache)
        .values({ key, server: entry.server, username: entry.username, ...values })
        .onConflictDoUpdate({ target: saslAuthCache.key, set: values }),
    ]);
  }

  async listAuthCache(now = Date.now()): Promise<AuthCacheEntry[]> {
    await this.#db.delete(saslAuthCache).where(lte(saslAuthCache.expiresAt, now));
    const rows = await this.#db
      .select()
      .from(saslAuthCache)
      .orderBy(asc(saslAuthCache.server), asc(saslAuthCache.username))
      .all();
    return rows.map(({ server, username, reply, createdAt, expiresAt }) => ({
      server,
      username,
      reply,
      createdAt,
      expiresAt,
    }));
  }

  /** Forgets refusals: of one username (its credential changed), or all. Returns how many. */
  async clearAuthCache(username?: string): Promise<number> {
    const deleted = await this.#db
      .delete(saslAuthCache)
      .where(username === undefined ? undefined : eq(saslAuthCache.username, username))
      .returning()
      .all();
    return deleted.length;
  }

  // HMAC under a key derived from the deployment secret: a stolen table does not let anyone test
  // password guesses. Without a key ring nothing is cached.
  async #hash(server: string, username: string, secret: string): Promise<string | null> {
    if (!this.#keys) return null;
    const ring = this.#keys;
    this.#cacheKey ??= deriveKey(ring.keys.get(ring.current)!, "postern sasl auth cache v1");
    return bytesToHex(await hmacSha256(await this.#cacheKey, utf8(`${server}\0${username}\0${secret}`)));
  }

  #row(name: string) {
    return this.#db.select().from(relayOAuth2).where(eq(relayOAuth2.name, name)).get();
  }

  #requireKeys(): KeyRing {
    if (!this.#keys) {
      throw Object.assign(new Error("POSTERN_SECRET_KEY is not set: secrets cannot be sealed or opened"), {
        code: "ERR_SECRET_KEY",
        transient: false,
      });
    }
    return this.#keys;
  }
}
