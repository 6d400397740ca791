// Checks a parameter value before it is stored, the way Postfix would complain at start-up, so a
// typo is refused at `postconf -e` time instead of breaking mail flow later.
import { parseNextHop } from "../delivery/next-hop.ts";
import { parseMapList } from "../maps/parse-map-list.ts";
import { parseNetworkList } from "../policy/network-list.ts";
import { parseRestrictions } from "../policy/parse-restrictions.ts";
import { parseMechanismFilter } from "../sasl/mechanism-filter.ts";
import { sessionConfig } from "../smtp/server/session-config.ts";
import { PARAMETERS, type ParameterName } from "./parameters.ts";
import { Settings } from "./settings.ts";
import { SMTPD_PARAMETERS } from "./smtpd-parameters.ts";
import { parseUpstreamUrl } from "./upstream-url.ts";

const RESTRICTION_LISTS = new Set<ParameterName>([
  "smtpd_sender_restrictions",
  "smtpd_relay_restrictions",
  "smtpd_recipient_restrictions",
]);
const MAP_LISTS = new Set<ParameterName>(["smtpd_sender_login_maps", "smtp_sasl_password_maps"]);
const BOOLEANS = new Set<ParameterName>([
  "smtp_sasl_auth_enable",
  "smtp_sender_dependent_authentication",
  "smtp_sasl_auth_soft_bounce",
  "smtp_tls_wrappermode",
  "smtp_send_dummy_mail_auth",
]);
const INTEGERS = new Set<ParameterName>(["message_size_limit", "smtpd_recipient_limit"]);
const DURATIONS = new Set<ParameterName>([
  "smtp_connect_timeout",
  "smtp_helo_timeout",
  "smtp_data_done_timeout",
  "minimal_backoff_time",
  "maximal_backoff_time",
  "maximal_queue_lifetime",
  "smtp_sasl_auth_cache_time",
  "postern_verification_cache_time",
  "postern_session_token_lifetime",
  "postern_upstream_timeout",
]);
const SASL_OPTIONS = /^(?:noplaintext|noactive|nodictionary|noanonymous|mutual_auth|forward_secrecy)$/;

/** A reason the value is unusable, or null when it is fine. */
export function validateParameter(name: ParameterName, value: string): string | null {
  // An lmtp_* twin takes what its smtp_* parameter takes.
  const twin = name.startsWith("lmtp_") ? `smtp_${name.slice(5)}` : null;
  if (twin !== null && Object.hasOwn(PARAMETERS, twin))
    return validateParameter(twin as ParameterName, value);
  const settings = new Settings({ [name]: value });
  try {
    // The SMTP listener's parameters are checked the way the listener reads them.
    if (Object.hasOwn(SMTPD_PARAMETERS, name)) sessionConfig(settings);
    else if (RESTRICTION_LISTS.has(name)) parseRestrictions(settings.get(name));
    else if (MAP_LISTS.has(name)) parseMapList(settings.get(name));
    else if (BOOLEANS.has(name)) settings.bool(name);
    else if (INTEGERS.has(name)) settings.int(name);
    else if (DURATIONS.has(name)) settings.duration(name);
    else if (name === "mynetworks") parseNetworkList(settings.get(name));
    else if (name === "relayhost" && value !== "") {
      const hop = parseNextHop(settings.get(name));
      if (!hop.ok) return hop.reason;
    } else if (name === "postern_upstream_url" && value !== "") {
      const url = parseUpstreamUrl(value);
      if (!url.ok) return url.reason;
    } else if (
      name === "smtp_tls_security_level" &&
      !["none", "may", "encrypt", "verify", "secure"].includes(value)
    ) {
      return "expected none, may, encrypt, verify or secure";
    } else if (
      name === "smtp_sasl_security_options" ||
      name === "smtp_sasl_tls_security_options" ||
      name === "smtp_sasl_tls_verified_security_options"
    ) {
      const bad = settings.list(name).find((option) => !SASL_OPTIONS.test(option));
      if (bad) return `unknown security option ${bad}`;
    } else if (name === "smtp_sasl_mechanism_filter") {
      parseMechanismFilter(value, name);
    } else if (
      name === "smtp_sasl_auth_cache_name" &&
      value !== "" &&
      !/^(?:d1|sqlite):[a-z0-9_.-]+$/.test(value)
    ) {
      return "expected d1:NAME (sqlite:NAME on Node), or empty to turn the cache off";
    } else if (name === "smtp_sasl_password_result_delimiter" && !/^\S$/.test(value)) {
      return "expected one non-whitespace character";
    }
  } catch (error) {
    return (error as Error).message;
  }
  return null;
}
