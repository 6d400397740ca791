// What the SMTP session reads from main.cf, typed once per listener. Parameters that
// config/parameters.ts does not list yet are read from `extra` (a raw main.cf layer) with the
// defaults below, so the session works before they are added there; once they are, the Settings
// value wins. SMTPD_PARAMETERS (config/smtpd-parameters.ts) is part of parameters.ts's table, so
// `extra` now acts as a layer over Settings (a listener's or a test's overrides).
import { isParameterName } from "../../config/parameters.ts";
import { ConfigError, parseDuration, type RawSettings, type Settings } from "../../config/settings.ts";
import { SMTPD_PARAMETERS } from "../../config/smtpd-parameters.ts";
import { type NetworkList, parseNetworkList } from "../../policy/network-list.ts";

export { SMTPD_PARAMETERS };

export type SmtpdParameterName = keyof typeof SMTPD_PARAMETERS;

export type BareNewlineMode = "reject" | "normalize" | "no";

export type TlsSecurityLevel = "none" | "may" | "encrypt";

export interface SessionConfig {
  /** myhostname: the greeting, EHLO, Received: and 421 replies. */
  hostname: string;
  /** message_size_limit in bytes; 0: no limit. */
  messageSizeLimit: number;
  /** smtpd_recipient_limit; 0: no limit. */
  recipientLimit: number;
  /** smtpd_sasl_response_limit: the longest AUTH response line. */
  saslResponseLimit: number;
  saslAuthEnable: boolean;
  tlsAuthOnly: boolean;
  tlsSecurityLevel: TlsSecurityLevel;
  brokenSaslAuthClients: boolean;
  saslExceptionsNetworks: NetworkList;
  saslAuthenticatedHeader: boolean;
  errorSleepMs: number;
  softErrorLimit: number;
  hardErrorLimit: number;
  clientAuthRateLimit: number;
  rateTimeUnitMs: number;
  forbidBareNewline: BareNewlineMode;
  forbidBareNewlineExclusions: NetworkList;
  forbidBareNewlineRejectCode: number;
  forbidUnauthPipelining: boolean;
  heloRequired: boolean;
}

/**
 * The session configuration from Settings; `extra` holds values for the parameters Settings does
 * not know yet (SMTPD_PARAMETERS). Throws ConfigError for a value Postfix would refuse.
 */
export function sessionConfig(base: Settings, extra: RawSettings = {}): SessionConfig {
  const settings = base.withLayer(extra);
  const read = (name: string): string => {
    if (isParameterName(name)) return settings.get(name);
    const value = extra[name] ?? SMTPD_PARAMETERS[name as SmtpdParameterName]?.default ?? "";
    return expand(value.trim(), settings, extra);
  };
  const bool = (name: string) => {
    const value = read(name).toLowerCase();
    if (value === "yes" || value === "true") return true;
    if (value === "no" || value === "false" || value === "") return false;
    throw new ConfigError(`${name} = ${value}: expected yes or no`);
  };
  const int = (name: string, min = 0) => {
    const value = read(name);
    if (!/^\d+$/.test(value) || Number(value) < min) {
      throw new ConfigError(`${name} = ${value}: expected a whole number of at least ${min}`);
    }
    return Number(value);
  };
  const duration = (name: string) => {
    const ms = parseDuration(read(name));
    if (ms === null) throw new ConfigError(`${name} = ${read(name)}: expected a time like 1s, 5m`);
    return ms;
  };
  const rejectCode = int("smtpd_forbid_bare_newline_reject_code");
  if (rejectCode < 400 || rejectCode > 599) {
    throw new ConfigError(`smtpd_forbid_bare_newline_reject_code = ${rejectCode}: expected 4XX or 5XX`);
  }
  return {
    hostname: read("myhostname"),
    messageSizeLimit: int("message_size_limit"),
    recipientLimit: int("smtpd_recipient_limit"),
    // RFC 4954 §4 makes 12288 the least a server may accept; Postfix refuses less too.
    saslResponseLimit: int("smtpd_sasl_response_limit", 12288),
    saslAuthEnable: bool("smtpd_sasl_auth_enable"),
    tlsAuthOnly: bool("smtpd_tls_auth_only"),
    tlsSecurityLevel: tlsLevel(read("smtpd_tls_security_level")),
    brokenSaslAuthClients: bool("broken_sasl_auth_clients"),
    saslExceptionsNetworks: parseNetworkList(
      read("smtpd_sasl_exceptions_networks"),
      "smtpd_sasl_exceptions_networks",
    ),
    saslAuthenticatedHeader: bool("smtpd_sasl_authenticated_header"),
    errorSleepMs: duration("smtpd_error_sleep_time"),
    softErrorLimit: int("smtpd_soft_error_limit"),
    hardErrorLimit: int("smtpd_hard_error_limit", 1),
    clientAuthRateLimit: int("smtpd_client_auth_rate_limit"),
    rateTimeUnitMs: duration("anvil_rate_time_unit"),
    forbidBareNewline: bareNewlineMode(read("smtpd_forbid_bare_newline")),
    forbidBareNewlineExclusions: parseNetworkList(
      read("smtpd_forbid_bare_newline_exclusions"),
      "smtpd_forbid_bare_newline_exclusions",
    ),
    forbidBareNewlineRejectCode: rejectCode,
    forbidUnauthPipelining: bool("smtpd_forbid_unauth_pipelining"),
    heloRequired: bool("smtpd_helo_required"),
  };
}

function tlsLevel(value: string): TlsSecurityLevel {
  const level = value.toLowerCase();
  if (level === "" || level === "none") return "none";
  if (level === "may" || level === "encrypt") return level;
  throw new ConfigError(`smtpd_tls_security_level = ${value}: expected none, may or encrypt`);
}

function bareNewlineMode(value: string): BareNewlineMode {
  const mode = value.toLowerCase();
  // Postfix: "yes" is the compatibility alias of normalize; "note" only adds a log note.
  if (mode === "normalize" || mode === "yes" || mode === "note") return "normalize";
  if (mode === "reject" || mode === "no") return mode;
  throw new ConfigError(`smtpd_forbid_bare_newline = ${value}: expected normalize, reject or no`);
}

/** $name and ${name} in a value Settings does not hold, one level deep (the defaults need no more). */
function expand(value: string, settings: Settings, extra: RawSettings): string {
  return value.replace(/\$(?:\{([a-z0-9_]+)\}|([a-z0-9_]+))/g, (whole, braced, bare) => {
    const name = (braced ?? bare) as string;
    if (isParameterName(name)) return settings.get(name);
    return extra[name] ?? SMTPD_PARAMETERS[name as SmtpdParameterName]?.default ?? whole;
  });
}
