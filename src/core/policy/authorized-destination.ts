// Postfix's permit_auth_destination test, behind reject_unauth_destination: a recipient is an
// authorized destination when its domain is one of mydestination (exactly) or relay_domains (the
// domain or a subdomain, as Postfix's default parent_domain_matches_subdomains has it; `.domain`
// means subdomains only), and it carries no sender-specified routing (user@elsewhere@domain,
// user%elsewhere@domain, elsewhere!user@domain): those are the classic open-relay tricks.
import { splitAddress } from "../mail/address.ts";

const ROUTING = /[@%!]/;

export function isAuthorizedDestination(
  recipient: string,
  localDomains: readonly string[],
  relayDomains: readonly string[],
): boolean {
  const { local, domain } = splitAddress(recipient);
  // Postfix would qualify a bare name with $myorigin; Postern never delivers locally, so it is no
  // destination of ours.
  if (domain === "" || ROUTING.test(local)) return false;
  if (isLocalDomain(domain, localDomains)) return true;
  const wanted = normalizeDomain(domain);
  return relayDomains.some((entry) => {
    const pattern = normalizeDomain(entry);
    if (pattern.startsWith(".")) return wanted.endsWith(pattern);
    return wanted === pattern || wanted.endsWith(`.${pattern}`);
  });
}

export function isLocalDomain(domain: string, localDomains: readonly string[]): boolean {
  const wanted = normalizeDomain(domain);
  return localDomains.some((local) => normalizeDomain(local) === wanted);
}

/** Lowercase, without the trailing dot of an absolute name. */
export function normalizeDomain(domain: string): string {
  const lower = domain.trim().toLowerCase();
  return lower.endsWith(".") ? lower.slice(0, -1) : lower;
}
