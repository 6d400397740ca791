// smtpd_sender_login_maps: which SASL logins own an envelope sender. For user@domain Postfix looks
// up `user@domain`, then `user` (only when the domain is local), then `@domain`; the first hit is a
// list of logins separated by commas and/or whitespace.
import { splitAddress } from "../mail/address.ts";
import { lookupFirst } from "../maps/lookup-first.ts";
import type { LookupTable } from "../maps/lookup-table.ts";
import { isLocalDomain } from "./authorized-destination.ts";

/** The owners (possibly none) when the sender is listed, null when it is not. Rejects when a table fails. */
export async function findSenderOwners(
  tables: readonly LookupTable[],
  sender: string,
  localDomains: readonly string[],
): Promise<string[] | null> {
  // The null sender belongs to nobody: it is never listed.
  if (sender === "" || tables.length === 0) return null;
  for (const key of senderKeys(sender, localDomains)) {
    const value = await lookupFirst(tables, key);
    if (value !== null) return value.split(/[\s,]+/).filter((login) => login !== "");
  }
  return null;
}

/**
 * The lookup keys for a sender, in Postfix's order. Keys use the address's internal form, as
 * Postfix's resolver hands it over: a quoted local part unquoted ("alice"@x is alice@x) and the
 * root dot of the domain dropped; otherwise either spelling would slip past the table.
 */
export function senderKeys(sender: string, localDomains: readonly string[]): string[] {
  const { local: quoted, domain: absolute } = splitAddress(sender);
  const local = unquote(quoted);
  if (absolute === "") return [local];
  const domain = absolute.endsWith(".") ? absolute.slice(0, -1) : absolute;
  const keys = [`${local}@${domain}`];
  if (isLocalDomain(domain, localDomains)) keys.push(local);
  keys.push(`@${domain}`);
  return keys;
}

/** RFC 5321 quoted-string to its content: "a\"b" is a"b. */
function unquote(local: string): string {
  if (local.length < 2 || !local.startsWith('"') || !local.endsWith('"')) return local;
  return local.slice(1, -1).replace(/\\(.)/gs, "$1");
}
