// The PolicyPort over Postfix's restriction lists as main.cf configures them (the same lists the
// HTTP submission runs, see submission/authorize.ts). A list that does not parse answers every
// recipient with 451 4.3.5 and logs why, rather than taking the listener down or letting mail
// through.
import type { Settings } from "../../config/settings.ts";
import type { LookupTable } from "../../maps/lookup-table.ts";
import { evaluateRecipient } from "../../policy/evaluate-recipient.ts";
import { type RestrictionLists, restrictionLists } from "../../policy/restriction-lists.ts";
import { SERVER_CONFIGURATION_ERROR } from "../../policy/smtp-reply.ts";
import type { PolicyPort } from "./session-ports.ts";

type Lists = RestrictionLists;

/** Reads the lists once, on first use; build one per session so settings changes take effect. */
export function restrictionPolicy(settings: Settings, openTable: (spec: string) => LookupTable): PolicyPort {
  let lists: { ok: true; value: Lists } | { ok: false; error: string } | null = null;
  return {
    async recipient(request) {
      lists ??= configured(settings, openTable);
      if (!lists.ok) {
        return {
          decision: "defer",
          reply: { ...SERVER_CONFIGURATION_ERROR },
          warnings: [`error: ${lists.error}`],
        };
      }
      return evaluateRecipient({
        ...lists.value,
        client: request.client,
        sasl: request.sasl,
        sender: request.sender,
        recipient: request.recipient,
      });
    },
  };
}

function configured(
  settings: Settings,
  openTable: (spec: string) => LookupTable,
): { ok: true; value: Lists } | { ok: false; error: string } {
  try {
    return { ok: true, value: restrictionLists(settings, openTable) };
  } catch (error) {
    return { ok: false, error: error instanceof Error ? error.message : String(error) };
  }
}
