// Builds the SASL server context for one HTTP request: credentials from the account store,
// login canonicalization (SASLprep, then smtpd_sasl_local_domain), authorization identities from
// postern_sasl_authz_maps, and bearer tokens from Postern's own sessions or trusted JWT issuers.
import { createBearerVerifier } from "../core/auth/jwt-issuers.ts";
import { isSessionToken, verifySessionToken } from "../core/auth/session-token.ts";
import type { Settings } from "../core/config/settings.ts";
import { parseMapList } from "../core/maps/parse-map-list.ts";
import type { SaslServerContext } from "../core/sasl/mechanism.ts";
import { saslprep } from "../core/sasl/saslprep.ts";
import { DbCredentialSource } from "../db/credential-source.ts";
import { type SaslBackend, saslBackend } from "./sasl-backend.ts";
import type { ClientInfo, Services } from "./services.ts";

type BearerVerifier = ReturnType<typeof createBearerVerifier>;

/** One verifier (and so one JWKS cache) per issuer configuration, for the life of the isolate. */
const verifiers = new Map<string, BearerVerifier>();

function bearerVerifier(config: string): BearerVerifier {
  let verifier = verifiers.get(config);
  if (!verifier) {
    verifier = createBearerVerifier(config);
    verifiers.clear(); // a new configuration replaces the old one
    verifiers.set(config, verifier);
  }
  return verifier;
}

export function canonicalLogin(login: string, settings: Settings): string | null {
  const prepared = saslprep(login, { allowUnassigned: true });
  if (!prepared.ok || prepared.value.length === 0 || prepared.value.length > 256) return null;
  const realm = settings.get("smtpd_sasl_local_domain");
  return realm && !prepared.value.includes("@") ? `${prepared.value}@${realm}` : prepared.value;
}

export interface RequestSasl {
  context: SaslServerContext;
  credentials: DbCredentialSource;
  backend: SaslBackend;
}

export function saslContext(
  services: Services,
  settings: Settings,
  client: ClientInfo,
  tls: boolean,
  service = "smtp",
): RequestSasl {
  const credentials = new DbCredentialSource(
    services.accounts,
    services.secretKeys,
    services.verificationCache,
    settings.duration("postern_verification_cache_time"),
  );
  const backend = saslBackend(services, settings, credentials, client, tls);
  const authzTables = parseMapList(settings.get("postern_sasl_authz_maps")).map((spec) =>
    services.openTable(spec),
  );
  const context: SaslServerContext = {
    credentials,
    canonicalLogin: (login) => canonicalLogin(login, settings),
    async mayActAs(authcid, authzid) {
      if (authcid.toLowerCase() === authzid.toLowerCase()) return true;
      for (const table of authzTables) {
        const value = await table.lookup(authcid);
        if (value === null) continue;
        return value
          .split(/[\s,]+/)
          .some((identity) => identity.length > 0 && identity.toLowerCase() === authzid.toLowerCase());
      }
      return false;
    },
    async verifyBearer(token) {
      const verified = await verifyBearerToken(token, services, settings);
      if (!verified.ok) return verified;
      // A token names a login; only one the back end vouches for may use it.
      if (!(await backend.identity(verified.login, "OAUTHBEARER"))) {
        return { ok: false, reason: `no account for ${verified.login}`, status: "invalid_token" };
      }
      return verified;
    },
    hostname: settings.get("myhostname"),
    service,
    channelBinding: null,
    externalIdentity: null,
    ...(services.standInKey ? { standInSecret: services.standInKey } : {}),
    now: Date.now,
    random: (n) => crypto.getRandomValues(new Uint8Array(n)),
  };
  return { context, credentials, backend };
}

export async function verifyBearerToken(
  token: string,
  services: Services,
  settings: Settings,
): Promise<
  | { ok: true; login: string; mechanism?: string }
  | { ok: false; reason: string; status: "invalid_token" | "invalid_request" }
> {
  if (isSessionToken(token)) {
    if (!services.sessionKey)
      return { ok: false, reason: "session tokens are not enabled", status: "invalid_token" };
    const session = await verifySessionToken(await services.sessionKey(), token);
    return session.ok
      ? { ok: true, login: session.login, mechanism: session.mechanism }
      : { ok: false, reason: session.reason, status: "invalid_token" };
  }
  const verified = await bearerVerifier(settings.get("postern_jwt_issuers")).verify(token);
  if (verified.ok) return { ok: true, login: verified.login };
  // An issuer's key set that cannot be fetched is a temporary failure (454 / 503), not a bad token.
  if (verified.transient)
    throw Object.assign(new Error(verified.reason), { code: "ERR_JWKS", transient: true });
  return { ok: false, reason: verified.reason, status: verified.status };
}
