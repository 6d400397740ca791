// Which destinations a message goes to: sender_dependent_relayhost_maps by envelope sender, then
// by @domain (the null sender is looked up as `<>`, Postfix's empty_address_relayhost_maps_lookup_key);
// a result of DUNNO ends the search without an override; otherwise relayhost.
import { splitAddress } from "../mail/address.ts";
import type { LookupTable } from "../maps/lookup-table.ts";

export const NULL_SENDER_KEY = "<>";

export function senderRelayKeys(sender: string): string[] {
  if (sender === "") return [NULL_SENDER_KEY];
  const { domain } = splitAddress(sender);
  return domain ? [sender, `@${domain}`] : [sender];
}

/** The destination list as written (one or more next hops, tried in order). */
export async function routeFor(sender: string, relayhost: string, tables: LookupTable[]): Promise<string> {
  for (const key of senderRelayKeys(sender)) {
    for (const table of tables) {
      const value = await table.lookup(key);
      if (value === null) continue;
      const trimmed = value.trim();
      if (trimmed.toUpperCase() === "DUNNO") return relayhost;
      if (trimmed !== "") return trimmed;
    }
  }
  return relayhost;
}
