// Which SASL mechanism the relay client uses, as Postfix + Cyrus SASL decide it on the client side:
// smtp_sasl_mechanism_filter hides server-offered names, the security options of the transport
// (none / TLS / verified TLS) remove mechanisms by property, and of what is left the strongest one
// the credential can run is chosen. The server-side filter and option parsers are reused as-is.
import type { MechanismSpec } from "../../sasl/mechanism.ts";
import { parseMechanismFilter } from "../../sasl/mechanism-filter.ts";
import { allMechanisms } from "../../sasl/mechanisms.ts";
import { meetsSecurityOptions, parseSecurityOptions } from "../../sasl/security-options.ts";

/** smtp_sasl_* policy, as parameter values (parsed here, so a typo is a ConfigError). */
export interface ClientSaslPolicy {
  /** smtp_sasl_security_options: without TLS. */
  securityOptions: string;
  /** smtp_sasl_tls_security_options: TLS without a verified server certificate. */
  tlsSecurityOptions: string;
  /** smtp_sasl_tls_verified_security_options: TLS with a verified certificate and host name. */
  tlsVerifiedSecurityOptions: string;
  /** smtp_sasl_mechanism_filter: empty passes every name. */
  mechanismFilter: string;
}

/** What the relay holds: a password, or an OAuth 2.0 access token. */
export type CredentialKind = "password" | "token";

/** How the connection is protected when AUTH is sent. */
export type TransportSecurity = "none" | "tls" | "verified";

/** Mechanisms a password runs, and the ones a bearer token runs; -PLUS, EXTERNAL, ANONYMOUS never. */
const RUNS: Readonly<Record<CredentialKind, ReadonlySet<string>>> = {
  password: new Set(["SCRAM-SHA-256", "SCRAM-SHA-1", "DIGEST-MD5", "CRAM-MD5", "PLAIN", "LOGIN"]),
  token: new Set(["OAUTHBEARER", "XOAUTH2"]),
};

const PARAMETER: Record<TransportSecurity, string> = {
  none: "smtp_sasl_security_options",
  tls: "smtp_sasl_tls_security_options",
  verified: "smtp_sasl_tls_verified_security_options",
};

export type MechanismChoice =
  | { ok: true; mechanism: MechanismSpec }
  /** No mechanism is acceptable: Postfix's "No worthy mechs found". */
  | { ok: false; reason: string };

export const NO_WORTHY_MECHS = "SASL authentication failure: No worthy mechs found";

/** The strongest mechanism that the server offers, the policy allows and the credential can run. */
export function chooseClientMechanism(
  offered: readonly string[],
  transport: TransportSecurity,
  credential: CredentialKind,
  policy: ClientSaslPolicy,
): MechanismChoice {
  const filter = parseMechanismFilter(policy.mechanismFilter, "smtp_sasl_mechanism_filter");
  const options = parseSecurityOptions(optionsFor(transport, policy), PARAMETER[transport]);
  const offeredNames = new Set(offered.map((name) => name.toUpperCase()).filter(filter));
  const usable = allMechanisms().filter(
    (spec) =>
      offeredNames.has(spec.name) &&
      RUNS[credential].has(spec.name) &&
      meetsSecurityOptions(spec.properties, options),
  );
  const best = usable[0];
  return best ? { ok: true, mechanism: best } : { ok: false, reason: NO_WORTHY_MECHS };
}

function optionsFor(transport: TransportSecurity, policy: ClientSaslPolicy): string {
  if (transport === "verified") return policy.tlsVerifiedSecurityOptions;
  return transport === "tls" ? policy.tlsSecurityOptions : policy.securityOptions;
}

/** Postern's defaults (parameters.ts): no plaintext mechanism without TLS. */
export const DEFAULT_CLIENT_SASL_POLICY: ClientSaslPolicy = {
  securityOptions: "noplaintext, noanonymous",
  tlsSecurityOptions: "noanonymous",
  tlsVerifiedSecurityOptions: "noanonymous",
  mechanismFilter: "",
};
