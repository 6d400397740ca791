// smtp_sasl_password_maps lookups in Postfix's order (smtp_sasl_glue.c): with
// smtp_sender_dependent_authentication the envelope sender, then its @domain (SMTP only, never for
// the null sender or LMTP); then the remote host name; then the next hop exactly as written.
import { splitAddress } from "../mail/address.ts";
import type { LookupTable } from "../maps/lookup-table.ts";
import { type NextHop, nextHopKeys } from "./next-hop.ts";

export interface RelayCredentials {
  username: string;
  password: string;
  /** Which key matched (for logs; never the secret). */
  key: string;
}

export function passwordMapKeys(hop: NextHop, sender: string, senderDependent: boolean): string[] {
  const keys: string[] = [];
  if (senderDependent && sender !== "" && hop.protocol === "smtp") {
    keys.push(sender, `@${splitAddress(sender).domain}`);
  }
  keys.push(...nextHopKeys(hop));
  return keys;
}

export async function findRelayCredentials(
  tables: LookupTable[],
  keys: string[],
  delimiter: string,
): Promise<RelayCredentials | null> {
  for (const key of keys) {
    for (const table of tables) {
      const value = await table.lookup(key);
      if (value === null) continue;
      const at = value.indexOf(delimiter || ":");
      if (at < 0) return { username: value, password: "", key };
      return { username: value.slice(0, at), password: value.slice(at + 1), key };
    }
  }
  return null;
}
