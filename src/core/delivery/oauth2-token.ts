// Managed OAuth 2.0 for XOAUTH2 / OAUTHBEARER smarthosts: the access token is cached until shortly
// before it expires, then renewed with the refresh token (RFC 6749 §6) over fetch; a refresh token
// the server rotates replaces the stored one. Token texts never reach a reason or a log line.
import { printable } from "../printable.ts";

export interface OAuth2Credential {
  name: string;
  tokenEndpoint: string;
  clientId: string;
  clientSecret: string | null;
  refreshToken: string;
  scope: string | null;
  accessToken: string | null;
  accessTokenExpiresAt: number | null;
  /** Changes with every admin edit, so a refresh racing an edit does not overwrite it. */
  version: number;
}

/** Storage of OAuth 2.0 credentials (src/db implements it; secrets come back opened). */
export interface OAuth2Store {
  load(name: string): Promise<OAuth2Credential | null>;
  /** Stores renewed tokens, unless the credential changed (another version) in the meantime. */
  saveTokens(
    name: string,
    version: number,
    tokens: { accessToken: string; expiresAt: number; refreshToken: string },
  ): Promise<void>;
  /** Drops the cached access token (the smarthost refused it): the next use renews it. */
  forgetAccessToken(name: string): Promise<void>;
}

export type AccessToken = { ok: true; token: string } | { ok: false; reason: string };

/** A token this close to its expiry is renewed first: it must outlive the SMTP session's AUTH. */
export const EXPIRY_MARGIN_MS = 60_000;
/** RFC 6749 §5.1: expires_in is recommended; without it, assume an hour (what both big providers give). */
const DEFAULT_LIFETIME_S = 3600;
/** RFC 6750 §2.1 b64token: what XOAUTH2 and OAUTHBEARER can carry. */
const B64TOKEN = /^[A-Za-z0-9\-._~+/]+=*$/;

// Per isolate / process: concurrent deliveries share one refresh instead of racing with the same
// refresh token (which a rotating server may answer only once).
const inFlight = new Map<string, Promise<AccessToken>>();

export async function accessToken(
  store: OAuth2Store,
  name: string,
  options: { fetch?: typeof fetch; now?: () => number } = {},
): Promise<AccessToken> {
  const now = options.now ?? Date.now;
  const credential = await store.load(name);
  if (!credential) return { ok: false, reason: `OAuth2 credential "${printable(name)}" does not exist` };
  const { accessToken: cached, accessTokenExpiresAt: expiresAt } = credential;
  if (cached && expiresAt !== null && expiresAt - EXPIRY_MARGIN_MS > now())
    return { ok: true, token: cached };
  const pending = inFlight.get(name);
  if (pending) return pending;
  const refreshing = refresh(store, credential, options.fetch ?? fetch, now).finally(() =>
    inFlight.delete(name),
  );
  inFlight.set(name, refreshing);
  return refreshing;
}

async function refresh(
  store: OAuth2Store,
  credential: OAuth2Credential,
  fetcher: typeof fetch,
  now: () => number,
): Promise<AccessToken> {
  const failed = (why: string): AccessToken => ({
    ok: false,
    reason: `OAuth2 token refresh for "${printable(credential.name)}" at ${endpointName(credential.tokenEndpoint)} failed: ${why}`,
  });
  const form = new URLSearchParams({
    grant_type: "refresh_token",
    refresh_token: credential.refreshToken,
    client_id: credential.clientId,
  });
  if (credential.clientSecret) form.set("client_secret", credential.clientSecret);
  if (credential.scope) form.set("scope", credential.scope);
  let response: Response;
  try {
    response = await fetcher(credential.tokenEndpoint, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded", accept: "application/json" },
      body: form.toString(),
    });
  } catch (error) {
    return failed(printable(error instanceof Error ? error.message : String(error), 200));
  }
  let body: Record<string, unknown>;
  try {
    const parsed: unknown = await response.json();
    if (typeof parsed !== "object" || parsed === null) throw new Error("not an object");
    body = parsed as Record<string, unknown>;
  } catch {
    return failed(`HTTP ${response.status} without a JSON body`);
  }
  if (!response.ok) {
    // RFC 6749 §5.2: error is a fixed code, error_description free text (neither carries secrets).
    const code = typeof body.error === "string" ? printable(body.error, 64) : `HTTP ${response.status}`;
    const description =
      typeof body.error_description === "string" ? ` (${printable(body.error_description, 200)})` : "";
    return failed(`${code}${description}`);
  }
  const token = body.access_token;
  if (typeof token !== "string" || !B64TOKEN.test(token))
    return failed("the response has no usable access_token");
  const lifetime =
    typeof body.expires_in === "number" && body.expires_in > 0
      ? body.expires_in
      : Number(body.expires_in) > 0
        ? Number(body.expires_in)
        : DEFAULT_LIFETIME_S;
  const rotated =
    typeof body.refresh_token === "string" && body.refresh_token !== "" ? body.refresh_token : null;
  await store.saveTokens(credential.name, credential.version, {
    accessToken: token,
    expiresAt: now() + lifetime * 1000,
    refreshToken: rotated ?? credential.refreshToken,
  });
  return { ok: true, token };
}

/** The endpoint without query or credentials, for reasons. */
function endpointName(endpoint: string): string {
  try {
    const url = new URL(endpoint);
    return `${url.origin}${url.pathname}`;
  } catch {
    return "(bad URL)";
  }
}
