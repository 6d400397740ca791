// From a smtp_sasl_password_maps entry to what AUTH sends: a password as it is, or, for a password
// field `oauth2:<name>`, a fresh access token of that managed OAuth 2.0 credential (the way
// sasl-xoauth2 lets the password field name a token store). Also Postfix's
// smtp_sasl_auth_cache_name: a credential the smarthost refused is not tried again until it
// changes or the entry expires.
import { printable } from "../printable.ts";
import type { AuthCredentials } from "../smtp/client/index.ts";
import { accessToken, type OAuth2Store } from "./oauth2-token.ts";
import type { RelayCredentials } from "./relay-credentials.ts";

export const OAUTH2_PREFIX = "oauth2:";

/** Failed (server, username, credential) triples; implementations store a keyed hash, never the secret. */
export interface AuthFailureCache {
  find(server: string, username: string, secret: string, now: number): Promise<{ reply: string } | null>;
  remember(entry: {
    server: string;
    username: string;
    secret: string;
    reply: string;
    now: number;
    ttlMs: number;
  }): Promise<void>;
}

export interface RelayAuthPorts {
  oauth2?: OAuth2Store;
  authCache?: AuthFailureCache;
  fetch?: typeof fetch;
}

export interface RelayAuthPolicy {
  /** smtp_sasl_auth_cache_name is set. */
  cache: boolean;
  /** smtp_sasl_auth_cache_time */
  cacheTtlMs: number;
  /** smtp_sasl_auth_soft_bounce */
  softBounce: boolean;
}

export type PreparedAuth =
  | { ok: true; auth: AuthCredentials | null; oauth2: string | null }
  | { ok: false; status: "deferred" | "bounced"; reason: string };

/** The OAuth 2.0 credential a password field names, or null for a plain password. */
export function oauth2Name(password: string): string | null {
  return password.startsWith(OAUTH2_PREFIX) ? password.slice(OAUTH2_PREFIX.length) : null;
}

export async function prepareRelayAuth(
  credentials: RelayCredentials | null,
  server: string,
  policy: RelayAuthPolicy,
  ports: RelayAuthPorts,
  now: number,
): Promise<PreparedAuth> {
  try {
    return await prepare(credentials, server, policy, ports, now);
  } catch (error) {
    // Storage trouble (a missing or wrong POSTERN_SECRET_KEY, the database): retry later. Our own
    // errors name keys and tables, never secrets.
    const why = error instanceof Error ? error.message : String(error);
    return { ok: false, status: "deferred", reason: `cannot load the relay credential: ${printable(why)}` };
  }
}

async function prepare(
  credentials: RelayCredentials | null,
  server: string,
  policy: RelayAuthPolicy,
  ports: RelayAuthPorts,
  now: number,
): Promise<PreparedAuth> {
  if (!credentials) return { ok: true, auth: null, oauth2: null };
  const { username, password } = credentials;
  const name = oauth2Name(password);
  if (name !== null) {
    if (!ports.oauth2) {
      return {
        ok: false,
        status: "deferred",
        reason: "OAuth2 credentials are not available in this runtime",
      };
    }
    const token = await accessToken(ports.oauth2, name, { fetch: ports.fetch, now: () => now });
    if (!token.ok) return { ok: false, status: "deferred", reason: token.reason };
    return { ok: true, auth: { username, token: token.token }, oauth2: name };
  }
  if (policy.cache && ports.authCache) {
    const cached = await ports.authCache.find(server, username, password, now);
    if (cached) {
      return {
        ok: false,
        status: policy.softBounce ? "deferred" : "bounced",
        reason: `SASL [CACHED] authentication failed; server ${server} said: ${cached.reply}`,
      };
    }
  }
  return { ok: true, auth: { username, password }, oauth2: null };
}

/** After the smarthost refused the credential with a 5xx: remember it, or renew a refused token. */
export async function afterAuthRejected(
  credentials: RelayCredentials,
  prepared: { oauth2: string | null },
  server: string,
  reason: string,
  policy: RelayAuthPolicy,
  ports: RelayAuthPorts,
  now: number,
): Promise<void> {
  if (prepared.oauth2 !== null) {
    // Revoked or expired early: the next attempt fetches a new one instead of reusing it.
    await ports.oauth2?.forgetAccessToken(prepared.oauth2);
    return;
  }
  if (!policy.cache || !ports.authCache) return;
  const said = reason.indexOf(" said: ");
  await ports.authCache.remember({
    server,
    username: credentials.username,
    secret: credentials.password,
    reply: said < 0 ? reason : reason.slice(said + " said: ".length),
    now,
    ttlMs: policy.cacheTtlMs,
  });
}
