// The restriction lists and tables main.cf configures, parsed once for a request or a session:
// what evaluateRecipient needs besides the facts of one recipient. Throws ConfigError when a list
// does not parse. Shared by the HTTP submission and the SMTP session.
import type { Settings } from "../config/settings.ts";
import type { LookupTable } from "../maps/lookup-table.ts";
import { parseMapList } from "../maps/parse-map-list.ts";
import type { RecipientInput } from "./evaluate-recipient.ts";
import { parseNetworkList } from "./network-list.ts";
import { parseRestrictions } from "./parse-restrictions.ts";

export type RestrictionLists = Omit<RecipientInput, "client" | "sasl" | "sender" | "recipient">;

export function restrictionLists(
  settings: Settings,
  openTable: (spec: string) => LookupTable,
): RestrictionLists {
  return {
    senderRestrictions: parseRestrictions(settings.get("smtpd_sender_restrictions")),
    relayRestrictions: parseRestrictions(settings.get("smtpd_relay_restrictions")),
    recipientRestrictions: parseRestrictions(settings.get("smtpd_recipient_restrictions")),
    mynetworks: parseNetworkList(settings.get("mynetworks")),
    localDomains: settings.list("mydestination").map((domain) => domain.toLowerCase()),
    relayDomains: settings.list("relay_domains").map((domain) => domain.toLowerCase()),
    senderLoginMaps: parseMapList(settings.get("smtpd_sender_login_maps")).map(openTable),
    openTable,
  };
}
