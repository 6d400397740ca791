// smtpd_sasl_security_options / smtpd_sasl_tls_security_options (and the smtp_ client twins):
// `noX` removes the mechanisms that have property X, `forward_secrecy` and `mutual_auth` keep only
// those that have it (Postfix with Dovecot SASL; Cyrus has no forward_secrecy).
import { ConfigError } from "../config/settings.ts";
import type { MechanismProperties } from "./mechanism.ts";

export const SECURITY_OPTIONS = [
  "noplaintext",
  "noactive",
  "nodictionary",
  "noanonymous",
  "forward_secrecy",
  "mutual_auth",
] as const;

export type SecurityOption = (typeof SECURITY_OPTIONS)[number];

/** What each option asks of a mechanism's properties. */
const RULES: Record<SecurityOption, (p: MechanismProperties) => boolean> = {
  noplaintext: (p) => !p.plaintext,
  noactive: (p) => !p.active,
  nodictionary: (p) => !p.dictionary,
  noanonymous: (p) => !p.anonymous,
  forward_secrecy: (p) => p.forwardSecrecy,
  mutual_auth: (p) => p.mutualAuth,
};

function isSecurityOption(option: string): option is SecurityOption {
  return (SECURITY_OPTIONS as readonly string[]).includes(option);
}

/**
 * Parses a list separated by commas and/or whitespace, case-insensitively as Postfix does. An
 * unknown option throws ConfigError (ERR_CONFIG) naming it: a typo must not weaken the policy.
 */
export function parseSecurityOptions(
  value: string,
  parameter = "smtpd_sasl_security_options",
): ReadonlySet<SecurityOption> {
  const options = new Set<SecurityOption>();
  for (const item of value.split(/[\s,]+/)) {
    if (item === "") continue;
    const option = item.toLowerCase();
    if (!isSecurityOption(option)) throw new ConfigError(`${parameter}: unknown security option "${item}"`);
    options.add(option);
  }
  return options;
}

/** Whether a mechanism with these properties passes every option. */
export function meetsSecurityOptions(
  properties: MechanismProperties,
  options: ReadonlySet<SecurityOption>,
): boolean {
  for (const option of options) if (!RULES[option](properties)) return false;
  return true;
}

/** The mechanisms that pass `options` (a parameter value or a parsed set), in their order. */
export function filterBySecurityOptions<T extends { properties: MechanismProperties }>(
  mechanisms: readonly T[],
  options: string | ReadonlySet<SecurityOption>,
): T[] {
  const parsed = typeof options === "string" ? parseSecurityOptions(options) : options;
  return mechanisms.filter((mechanism) => meetsSecurityOptions(mechanism.properties, parsed));
}
