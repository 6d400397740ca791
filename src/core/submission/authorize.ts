// Runs Postfix's restriction lists for every recipient of one submission. HTTP has no per-RCPT
// dialogue, so a message is accepted only when every recipient is permitted; the first refusal
// answers for the whole request. Lookups are memoized for the request so that 1,000 recipients do
// not mean 1,000 identical table queries.
import type { Settings } from "../config/settings.ts";
import type { LookupTable } from "../maps/lookup-table.ts";
import { evaluateRecipient } from "../policy/evaluate-recipient.ts";
import { type RestrictionLists, restrictionLists } from "../policy/restriction-lists.ts";
import { renderReply, SERVER_CONFIGURATION_ERROR, type SmtpReply } from "../policy/smtp-reply.ts";

export interface AuthorizeInput {
  settings: Settings;
  client: { address: string; name: string };
  sasl: { username: string; method: string } | null;
  sender: string;
  recipients: string[];
  openTable: (spec: string) => LookupTable;
}

export type AuthorizeResult =
  | { ok: true; hold: string | null; discard: string | null; warnings: string[] }
  | {
      ok: false;
      decision: "reject" | "defer";
      recipient: string;
      reply: SmtpReply;
      replyText: string;
      enhanced: string;
      warnings: string[];
    };

export async function authorizeSubmission(input: AuthorizeInput): Promise<AuthorizeResult> {
  const { settings } = input;
  const warnings: string[] = [];
  let lists: RestrictionLists;
  try {
    lists = restrictionLists(settings, memoized(input.openTable));
  } catch (error) {
    warnings.push(`error: ${(error as Error).message}`);
    return refuse("defer", input.recipients[0] ?? "", SERVER_CONFIGURATION_ERROR, warnings);
  }
  let hold: string | null = null;
  let discard: string | null = null;
  for (const recipient of input.recipients) {
    const decision = await evaluateRecipient({
      ...lists,
      client: input.client,
      sasl: input.sasl,
      sender: input.sender,
      recipient,
    });
    warnings.push(...decision.warnings);
    hold ??= decision.hold ?? null;
    discard ??= decision.discard ?? null;
    if (decision.decision !== "permit") {
      return refuse(decision.decision, recipient, decision.reply ?? SERVER_CONFIGURATION_ERROR, warnings);
    }
  }
  return { ok: true, hold, discard, warnings };
}

function refuse(
  decision: "reject" | "defer",
  recipient: string,
  reply: SmtpReply,
  warnings: string[],
): AuthorizeResult {
  return {
    ok: false,
    decision,
    recipient,
    reply,
    replyText: renderReply(reply),
    enhanced: reply.enhanced,
    warnings,
  };
}

/** Tables whose answers are remembered: one lookup per key for as long as the opener lives. */
export function memoized(open: (spec: string) => LookupTable): (spec: string) => LookupTable {
  const tables = new Map<string, LookupTable>();
  return (spec) => {
    let table = tables.get(spec);
    if (!table) {
      const inner = open(spec);
      const answers = new Map<string, Promise<string | null>>();
      table = {
        lookup(key) {
          let answer = answers.get(key);
          if (!answer) {
            answer = inner.lookup(key);
            answers.set(key, answer);
          }
          return answer;
        },
      };
      tables.set(spec, table);
    }
    return table;
  };
}
