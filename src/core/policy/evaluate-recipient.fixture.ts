// Test fixtures for the evaluator: a request with sensible defaults, and its decision in a form a
// table can compare (the reply rendered the way a client sees it).
import type { LookupTable } from "../maps/lookup-table.ts";
import { openTable } from "../maps/open-table.ts";
import { evaluateRecipient } from "./evaluate-recipient.ts";
import { parseNetworkList } from "./network-list.ts";
import { parseRestrictions } from "./parse-restrictions.ts";
import { renderReply } from "./smtp-reply.ts";

export interface Request {
  sender?: string;
  recipient?: string;
  /** The SASL login, or null for an unauthenticated client. */
  login?: string | null;
  client?: string;
  senderRestrictions?: string;
  relayRestrictions?: string;
  recipientRestrictions?: string;
  senderLoginMaps?: LookupTable[];
  openTable?: (spec: string) => LookupTable;
}

export interface Outcome {
  decision: "permit" | "reject" | "defer";
  reply?: string;
  hold?: string;
  discard?: string;
}

export const STRANGER = "203.0.113.5";
export const TRUSTED = "192.168.1.10";

export const SENDER_LOGIN_MAPS = [
  openTable(
    "inline:{ alice@example.com=alice, { shared@example.com = alice, Bob }, postmaster=admin, @owned.test=owner, { nobody@example.com = } }",
  ),
];

export async function decide(request: Request): Promise<Outcome & { warnings: string[] }> {
  const login = request.login === undefined ? null : request.login;
  const result = await evaluateRecipient({
    senderRestrictions: parseRestrictions(request.senderRestrictions ?? ""),
    relayRestrictions: parseRestrictions(request.relayRestrictions ?? ""),
    recipientRestrictions: parseRestrictions(request.recipientRestrictions ?? ""),
    client: { address: request.client ?? STRANGER, name: "unknown" },
    sasl: login === null ? null : { username: login, method: "PLAIN" },
    sender: request.sender ?? "alice@example.com",
    recipient: request.recipient ?? "bob@remote.test",
    mynetworks: parseNetworkList("127.0.0.0/8 192.168.0.0/16 [::1]"),
    localDomains: ["example.com"],
    relayDomains: ["relay.test"],
    senderLoginMaps: request.senderLoginMaps ?? SENDER_LOGIN_MAPS,
    openTable: request.openTable ?? ((spec) => openTable(spec)),
  });
  const outcome: Outcome & { warnings: string[] } = { decision: result.decision, warnings: result.warnings };
  if (result.reply) outcome.reply = renderReply(result.reply);
  if (result.hold !== undefined) outcome.hold = result.hold;
  if (result.discard !== undefined) outcome.discard = result.discard;
  return outcome;
}

/** The decision without the log lines, for tables that do not care about them. */
export async function outcome(request: Request): Promise<Outcome> {
  const { warnings: _warnings, ...rest } = await decide(request);
  return rest;
}
