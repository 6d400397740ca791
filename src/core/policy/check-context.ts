// What a restriction sees while it runs: the facts of the request, whose name and class go into a
// generic reply, and the verbs of Postfix's smtpd_check.c (reject, defer_if_permit, ...). The
// evaluator implements it; the restriction table only uses it.
import type { LookupTable } from "../maps/lookup-table.ts";
import type { NetworkList } from "./network-list.ts";
import type { SmtpReply } from "./smtp-reply.ts";

/** A restriction's verdict: permit (Postfix's OK), no opinion, or reject/defer (the reply is kept). */
export type CheckStatus = "ok" | "dunno" | "reject";

/** Postfix's reply_class: what a generic reply says was rejected. */
export type ReplyClass = "Sender address" | "Recipient address" | "SASL login name";

export interface ReplyTarget {
  /** Shown as `<name>`: the sender, the recipient or the SASL login. */
  readonly name: string;
  readonly class: ReplyClass;
}

export interface RecipientFacts {
  client: { address: string; name: string };
  sasl: { username: string; method: string } | null;
  /** '' for the null sender. */
  sender: string;
  recipient: string;
  mynetworks: NetworkList;
  /** mydestination. */
  localDomains: readonly string[];
  relayDomains: readonly string[];
  senderLoginMaps: readonly LookupTable[];
  /** Opens the table named after check_sasl_access. */
  openTable: (spec: string) => LookupTable;
}

export interface CheckContext {
  readonly facts: RecipientFacts;
  readonly target: ReplyTarget;
  /** The SASL login, or null when the client did not authenticate. */
  readonly login: string | null;
  /** Postfix's smtpd_check_reject(): honours warn_if_reject and defer_if_reject. */
  reject(reply: SmtpReply): CheckStatus;
  /** Defer instead of permitting, should this recipient end up permitted. */
  deferIfPermit(reply: SmtpReply): CheckStatus;
  /** Defer instead of rejecting, should a later restriction reject with 5xx. */
  deferIfReject(reply: SmtpReply): CheckStatus;
  /** Log only the next restriction's reject. */
  warnIfReject(): void;
  /** Ends the evaluation with a 4xx that warn_if_reject cannot turn into a warning (broken config or table). */
  abort(reply: SmtpReply, warning: string): never;
  hold(text: string): void;
  discard(text: string): void;
  /** A Postfix-shaped log line for this request: `warn: RCPT from host[addr]: text; from=<s> to=<r>`. */
  log(what: string, text: string): void;
  /** smtpd_sender_login_maps owners of the sender (looked up once per evaluation). */
  senderOwners(): Promise<string[] | null>;
  /** Applies a restriction list found in an access table, in place, under this reply target. */
  applyNested(names: readonly string[], table: string): Promise<CheckStatus>;
  /** This context with another reply target (check_sasl_access replies name the login). */
  withTarget(target: ReplyTarget): CheckContext;
}
