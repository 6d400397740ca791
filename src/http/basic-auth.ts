// HTTP Basic with SASL PLAIN semantics (RFC 7617 over RFC 4616): the username is the authcid, the
// password is verified against the account's SCRAM record in constant time. Unknown users and
// wrong passwords get the same answer after the same work, and the failure is logged in Postfix's
// shape so that fail2ban filters written for Postfix match.
import { parseBasicAuthorization } from "../core/auth/basic.ts";
import { verifyPassword } from "../core/auth/verify-password.ts";
import type { Settings } from "../core/config/settings.ts";
import { printable } from "../core/printable.ts";
import { describeClient } from "./client-info.ts";
import { ProblemError } from "./problem.ts";
import type { ClientInfo, SaslIdentity, Services } from "./services.ts";

export const WWW_AUTHENTICATE = 'Basic realm="postern", charset="UTF-8"';

const LOOPBACK_HOSTS = new Set(["localhost", "127.0.0.1", "[::1]"]);

/** Plaintext credentials only over TLS; loopback is exempt so that local development works. */
export function isConfidential(url: URL): boolean {
  return url.protocol === "https:" || LOOPBACK_HOSTS.has(url.hostname);
}

/** smtpd_sasl_local_domain: the realm appended to a login that has none. */
export function withRealm(login: string, settings: Settings): string {
  const realm = settings.get("smtpd_sasl_local_domain");
  return realm && !login.includes("@") ? `${login}@${realm}` : login;
}

export function authFailed(reason = "authentication failure"): ProblemError {
  return new ProblemError(
    {
      slug: "authentication-failed",
      title: "Authentication failed",
      status: 401,
      detail: `Error: authentication failed: ${reason}`,
      smtpStatus: "5.7.8",
      smtpReply: `535 5.7.8 Error: authentication failed: ${reason}`,
    },
    { "www-authenticate": WWW_AUTHENTICATE },
  );
}

export function authRequired(): ProblemError {
  return new ProblemError(
    {
      slug: "authentication-required",
      title: "Authentication required",
      status: 401,
      detail: "Authentication required",
      smtpStatus: "5.7.0",
      smtpReply: "530 5.7.0 Authentication required",
    },
    { "www-authenticate": WWW_AUTHENTICATE },
  );
}

/**
 * The authenticated identity, or null when the request carries no credentials. Throws a 401
 * problem for bad or unusable credentials.
 */
export async function authenticateBasic(
  request: Request,
  client: ClientInfo,
  services: Services,
  settings: Settings,
): Promise<SaslIdentity | null> {
  const header = request.headers.get("authorization");
  if (header === null) return null;
  const parsed = parseBasicAuthorization(header);
  if (parsed === null) throw authFailed("unsupported authorization scheme");
  if (!isConfidential(new URL(request.url))) {
    throw new ProblemError({
      slug: "encryption-required",
      title: "Encryption required",
      status: 403,
      detail: "Encryption required for requested authentication mechanism: use HTTPS",
      smtpStatus: "5.7.11",
      smtpReply: "538 5.7.11 Encryption required for requested authentication mechanism",
    });
  }
  if (!parsed.ok) {
    services.logger.warn(
      `warning: ${describeClient(client)}: SASL PLAIN authentication failed: ${parsed.reason}`,
    );
    throw authFailed("malformed credentials");
  }
  const login = withRealm(parsed.username, settings);
  const account = await services.accounts.findByLogin(login);
  // Always verify, against a dummy record for unknown logins, so timing does not tell them apart.
  const valid = await verifyPassword(account?.scram ?? null, parsed.password);
  if (!account || !valid || account.disabled) {
    services.logger.warn(
      `warning: ${describeClient(client)}: SASL PLAIN authentication failed: authentication failure, sasl_username=${printable(login)}`,
    );
    throw authFailed();
  }
  return { accountId: account.id, username: account.login, method: "PLAIN" };
}
