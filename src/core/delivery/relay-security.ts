// The smtp_tls_* and smtp_sasl_* parameters of a delivery run, read once into what the relay client
// and relay-auth.ts take. A bad value is a ConfigError: the run defers rather than weakening TLS.
import { ConfigError, type Settings } from "../config/settings.ts";
import { parseMechanismFilter } from "../sasl/mechanism-filter.ts";
import { parseSecurityOptions } from "../sasl/security-options.ts";
import type { RelayOptions, TlsSecurityLevel } from "../smtp/client/index.ts";
import type { RelayAuthPolicy } from "./relay-auth.ts";

const LEVELS: readonly TlsSecurityLevel[] = ["none", "may", "encrypt", "verify", "secure"];

export type RelaySecurity = Pick<
  RelayOptions,
  "tlsLevel" | "wrapperMode" | "sasl" | "caFile" | "authSoftBounce" | "dummyMailAuth"
>;

/** Which next hop: an lmtp: one reads lmtp_tls_security_level and has no wrapper mode; a UNIX socket no TLS. */
export interface HopKind {
  lmtp?: boolean;
  unix?: boolean;
}

export function relaySecurity(settings: Settings, hop: HopKind = {}): RelaySecurity {
  const parameter = hop.lmtp ? "lmtp_tls_security_level" : "smtp_tls_security_level";
  const written = settings.get(parameter).toLowerCase();
  const level = written === "" ? "none" : written;
  if (!(LEVELS as readonly string[]).includes(level)) {
    throw new ConfigError(`${parameter} = ${written}: expected none, may, encrypt, verify or secure`);
  }
  const wrapperMode = !hop.lmtp && settings.bool("smtp_tls_wrappermode");
  // Postfix: wrapper mode needs a mandatory TLS level; less than encrypt is raised to it. A UNIX
  // socket never leaves the machine: no TLS there, as Postfix's lmtp(8) on unix:.
  const tlsLevel: TlsSecurityLevel = hop.unix
    ? "none"
    : wrapperMode && (level === "none" || level === "may")
      ? "encrypt"
      : (level as TlsSecurityLevel);
  const caFile = settings.get("smtp_tls_CAfile");
  const sasl = {
    securityOptions: settings.get("smtp_sasl_security_options"),
    tlsSecurityOptions: settings.get("smtp_sasl_tls_security_options"),
    tlsVerifiedSecurityOptions: settings.get("smtp_sasl_tls_verified_security_options"),
    mechanismFilter: settings.get("smtp_sasl_mechanism_filter"),
  };
  // Parsed here too, so a bad value defers the run with its reason instead of failing mid-session.
  parseSecurityOptions(sasl.securityOptions, "smtp_sasl_security_options");
  parseSecurityOptions(sasl.tlsSecurityOptions, "smtp_sasl_tls_security_options");
  parseSecurityOptions(sasl.tlsVerifiedSecurityOptions, "smtp_sasl_tls_verified_security_options");
  parseMechanismFilter(sasl.mechanismFilter, "smtp_sasl_mechanism_filter");
  return {
    tlsLevel,
    wrapperMode,
    sasl,
    ...(caFile ? { caFile } : {}),
    authSoftBounce: settings.bool("smtp_sasl_auth_soft_bounce"),
    dummyMailAuth: settings.bool("smtp_send_dummy_mail_auth"),
  };
}

export function relayAuthPolicy(settings: Settings): RelayAuthPolicy {
  return {
    cache: settings.get("smtp_sasl_auth_cache_name") !== "",
    cacheTtlMs: settings.duration("smtp_sasl_auth_cache_time"),
    softBounce: settings.bool("smtp_sasl_auth_soft_bounce"),
  };
}
