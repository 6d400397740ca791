// The mechanisms announced on a transport, and the rule that only those are accepted: a
// mechanism the policy removes is neither offered in EHLO / WWW-Authenticate nor usable with AUTH
// (Postfix asks the same SASL instance, configured with the same policy, for both).
//
// Order of the filters: the implemented table (or `enabled`), then what the transport can carry
// (-PLUS needs channel binding, EXTERNAL an external identity), then the security options of
// the transport (smtpd_sasl_tls_security_options once TLS is up), then
// smtpd_sasl_mechanism_filter, then Cyrus's mech_list. Strongest first.
import type { MechanismSpec } from "./mechanism.ts";
import { parseMechanismFilter, parseMechList } from "./mechanism-filter.ts";
import { allMechanisms } from "./mechanisms.ts";
import { filterBySecurityOptions, parseSecurityOptions } from "./security-options.ts";

export interface OfferInput {
  /** TLS is up (STARTTLS done, implicit TLS, or HTTPS). */
  tls: boolean;
  /** smtpd_sasl_security_options: the policy without TLS. */
  securityOptions: string;
  /** smtpd_sasl_tls_security_options: the policy with TLS. */
  tlsSecurityOptions: string;
  /** smtpd_sasl_mechanism_filter. */
  mechanismFilter: string;
  /** Cyrus mech_list; empty allows all. */
  mechList: string;
  /** The transport has channel binding data (tls-exporter): -PLUS variants may be offered. */
  channelBinding: boolean;
  /** The transport has an external identity (verified client certificate): EXTERNAL may be offered. */
  externalIdentity: boolean;
  /** Limits the candidates to these names (case-insensitive); all implemented ones when absent. */
  enabled?: readonly string[];
}

/** The mechanisms to announce on this transport, strongest first. Throws ConfigError on bad policy. */
export function offeredMechanisms(input: OfferInput): MechanismSpec[] {
  const enabled = input.enabled && new Set(input.enabled.map((name) => name.toUpperCase()));
  const filter = parseMechanismFilter(input.mechanismFilter);
  const mechList = parseMechList(input.mechList);
  const options = parseSecurityOptions(
    input.tls ? input.tlsSecurityOptions : input.securityOptions,
    input.tls ? "smtpd_sasl_tls_security_options" : "smtpd_sasl_security_options",
  );
  const carried = allMechanisms().filter(
    (spec) =>
      (!enabled || enabled.has(spec.name.toUpperCase())) &&
      (!spec.properties.channelBinding || input.channelBinding) &&
      (!spec.properties.external || input.externalIdentity),
  );
  return filterBySecurityOptions(carried, options).filter((spec) => filter(spec.name) && mechList(spec.name));
}

/** Whether AUTH with `name` (case-insensitive) may proceed: exactly the offered mechanisms. */
export function isMechanismAllowed(name: string, input: OfferInput): boolean {
  const upper = name.toUpperCase();
  return offeredMechanisms(input).some((spec) => spec.name === upper);
}
