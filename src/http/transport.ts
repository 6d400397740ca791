// Transport and realm rules shared by every HTTP credential scheme.
import type { Settings } from "../core/config/settings.ts";

const LOOPBACK_HOSTS = new Set(["localhost", "127.0.0.1", "[::1]"]);

/**
 * Whether the request arrived over TLS (HTTPS). Loopback counts too: its traffic never leaves the
 * machine, and it keeps local development working.
 */
export function isConfidential(url: URL): boolean {
  return url.protocol === "https:" || LOOPBACK_HOSTS.has(url.hostname);
}

/** smtpd_sasl_local_domain: the realm appended to a login that has none. */
export function withRealm(login: string, settings: Settings): string {
  const realm = settings.get("smtpd_sasl_local_domain");
  return realm && !login.includes("@") ? `${login}@${realm}` : login;
}
