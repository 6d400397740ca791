// Which SASL mechanisms an HTTP request may use: the same policy Postfix applies to AUTH
// (smtpd_sasl_security_options before TLS, smtpd_sasl_tls_security_options with it, then
// smtpd_sasl_mechanism_filter and mech_list). HTTPS counts as TLS, and so does loopback.
// A mechanism the policy removes is neither offered nor accepted.
import type { Settings } from "../core/config/settings.ts";
import { findMechanism } from "../core/sasl/mechanisms.ts";
import { isMechanismAllowed, type OfferInput, offeredMechanisms } from "../core/sasl/offered-mechanisms.ts";
import { ProblemError } from "./problem.ts";

export function offerInput(settings: Settings, tls: boolean, enabled?: readonly string[]): OfferInput {
  return {
    ...(enabled ? { enabled } : {}),
    tls,
    securityOptions: settings.get("smtpd_sasl_security_options"),
    tlsSecurityOptions: settings.get("smtpd_sasl_tls_security_options"),
    mechanismFilter: settings.get("smtpd_sasl_mechanism_filter"),
    mechList: settings.get("mech_list"),
    // Workers see no TLS session of their own (Cloudflare terminates it): no tls-exporter, no
    // client certificate, so neither -PLUS nor EXTERNAL is offered over HTTP.
    channelBinding: false,
    externalIdentity: false,
  };
}

export function offeredNames(settings: Settings, tls: boolean, enabled?: readonly string[]): string[] {
  return offeredMechanisms(offerInput(settings, tls, enabled)).map((spec) => spec.name);
}

/** Null when `name` may be used on this request; otherwise the problem to answer with. */
export function mechanismRefusal(
  name: string,
  settings: Settings,
  tls: boolean,
  enabled?: readonly string[],
): ProblemError | null {
  if (isMechanismAllowed(name, offerInput(settings, tls, enabled))) return null;
  const known = findMechanism(name);
  if (!known || (enabled && !enabled.includes(known.name))) {
    return new ProblemError({
      slug: "unknown-mechanism",
      title: "Unrecognized authentication type",
      status: 400,
      detail: `${name.slice(0, 40)} is not a SASL mechanism this server implements`,
      smtpStatus: "5.5.4",
      smtpReply: "504 5.5.4 Unrecognized authentication type",
    });
  }
  if (!tls && isMechanismAllowed(name, offerInput(settings, true, enabled))) {
    return new ProblemError({
      slug: "encryption-required",
      title: "Encryption required",
      status: 403,
      detail: `${name} is only available over HTTPS`,
      smtpStatus: "5.7.11",
      smtpReply: "538 5.7.11 Encryption required for requested authentication mechanism",
    });
  }
  return new ProblemError({
    slug: "mechanism-not-allowed",
    title: "Authentication mechanism not allowed",
    status: 403,
    detail: `${name} is disabled by this server's policy`,
    smtpStatus: "5.7.9",
    smtpReply: "534 5.7.9 Authentication mechanism is too weak",
  });
}
