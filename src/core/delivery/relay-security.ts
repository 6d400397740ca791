// The smtp_tls_* and smtp_sasl_* parameters of a delivery run, read once into what the relay client
// and relay-auth.ts take. A bad value is a ConfigError: the run defers rather than weakening TLS.
import type { ParameterName } from "../config/parameters.ts";
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

/**
 * The client parameters an lmtp: hop reads under their lmtp_* names, as Postfix's lmtp(8) does
 * (their defaults point at the smtp_* values, so one policy holds unless LMTP is set apart).
 */
export type ClientParameter =
  | "sasl_auth_enable"
  | "sasl_password_maps"
  | "connect_timeout"
  | "data_done_timeout"
  | "tls_security_level"
  | "tls_CAfile"
  | "sasl_security_options"
  | "sasl_tls_security_options"
  | "sasl_tls_verified_security_options"
  | "sasl_mechanism_filter"
  | "sasl_auth_soft_bounce"
  | "sasl_auth_cache_name"
  | "sasl_auth_cache_time"
  | "send_dummy_mail_auth"
  | "sasl_password_result_delimiter";

type ClientParameterName = `${"smtp" | "lmtp"}_${ClientParameter}`;
/** Every twin is in the parameter table: this fails to compile, naming it, when one is missing. */
type Unlisted = Exclude<ClientParameterName, ParameterName>;
export const everyTwinListed: [Unlisted] extends [never] ? true : Unlisted = true;

export function clientParameter(hop: HopKind, name: ClientParameter): ClientParameterName {
  return `${hop.lmtp ? "lmtp" : "smtp"}_${name}` as ClientParameterName;
}

export function relaySecurity(settings: Settings, hop: HopKind = {}): RelaySecurity {
  const name = (parameter: ClientParameter) => clientParameter(hop, parameter);
  const parameter = name("tls_security_level");
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
  const caFile = settings.get(name("tls_CAfile"));
  const sasl = {
    securityOptions: settings.get(name("sasl_security_options")),
    tlsSecurityOptions: settings.get(name("sasl_tls_security_options")),
    tlsVerifiedSecurityOptions: settings.get(name("sasl_tls_verified_security_options")),
    mechanismFilter: settings.get(name("sasl_mechanism_filter")),
  };
  // Parsed here too, so a bad value defers the run with its reason instead of failing mid-session.
  parseSecurityOptions(sasl.securityOptions, name("sasl_security_options"));
  parseSecurityOptions(sasl.tlsSecurityOptions, name("sasl_tls_security_options"));
  parseSecurityOptions(sasl.tlsVerifiedSecurityOptions, name("sasl_tls_verified_security_options"));
  parseMechanismFilter(sasl.mechanismFilter, name("sasl_mechanism_filter"));
  return {
    tlsLevel,
    wrapperMode,
    sasl,
    ...(caFile ? { caFile } : {}),
    authSoftBounce: settings.bool(name("sasl_auth_soft_bounce")),
    dummyMailAuth: settings.bool(name("send_dummy_mail_auth")),
  };
}

export function relayAuthPolicy(settings: Settings, hop: HopKind = {}): RelayAuthPolicy {
  return {
    cache: settings.get(clientParameter(hop, "sasl_auth_cache_name")) !== "",
    cacheTtlMs: settings.duration(clientParameter(hop, "sasl_auth_cache_time")),
    softBounce: settings.bool(clientParameter(hop, "sasl_auth_soft_bounce")),
  };
}
