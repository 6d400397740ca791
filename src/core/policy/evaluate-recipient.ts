// Postfix's smtpd_check_rcpt() with smtpd_delay_reject = yes: for each recipient, the sender
// restrictions, then the relay restrictions, then the recipient restrictions. Within a list the
// first permit ends that list and the next one runs; a reject or defer ends everything; reaching the
// end is "no opinion"; a recipient nothing refused is permitted. Around that, Postfix's modifiers:
// warn_if_reject (the next restriction's reject is only logged), defer_if_permit (a final permit
// becomes a defer, carried from the sender stage to the recipient stage), defer_if_reject (a later
// 5xx becomes this defer, within one stage), HOLD (mark and go on) and DISCARD (mark and stop
// checking: the message is accepted and dropped).

import { printable } from "../printable.ts";
import type { CheckContext, CheckStatus, RecipientFacts, ReplyTarget } from "./check-context.ts";
import { findSenderOwners } from "./find-sender-owners.ts";
import { parseRestrictions, type Restriction } from "./parse-restrictions.ts";
import { RESTRICTIONS, type RestrictionSpec } from "./restrictions.ts";
import { makeReply, renderReply, SERVER_CONFIGURATION_ERROR, type SmtpReply } from "./smtp-reply.ts";

export interface RecipientInput extends RecipientFacts {
  senderRestrictions: readonly Restriction[];
  relayRestrictions: readonly Restriction[];
  recipientRestrictions: readonly Restriction[];
}

export interface RecipientDecision {
  decision: "permit" | "reject" | "defer";
  /** The 4xx/5xx reply for reject and defer. */
  reply?: SmtpReply;
  /**
   * An access table said HOLD (its text, Postfix-shaped). Like Postfix's, the mark belongs to the
   * message, not to this recipient: it is reported even when this recipient is then refused.
   */
  hold?: string;
  /** An access table said DISCARD: accept and drop the whole message. */
  discard?: string;
  /** Log lines: reject_warning (warn_if_reject), WARN/INFO actions, configuration and lookup errors. */
  warnings: string[];
}

// Postfix allows 100 levels; a restriction list from an access table cannot name a table, so real
// configurations never nest deeper than 2.
const MAX_NESTING = 4;

export async function evaluateRecipient(input: RecipientInput): Promise<RecipientDecision> {
  const run = new Evaluation(input);
  try {
    run.startStage();
    const sender = await run.list(input.senderRestrictions, { name: input.sender, class: "Sender address" });
    // A reject always leaves its reply; the fallback only guards against a permit by mistake.
    if (sender === "reject") return run.finish(run.rejected ?? SERVER_CONFIGURATION_ERROR);

    // defer_if_permit raised by the sender stage carries over; defer_if_reject does not.
    run.startStage();
    const target: ReplyTarget = { name: input.recipient, class: "Recipient address" };
    for (const list of [input.relayRestrictions, input.recipientRestrictions]) {
      if ((await run.list(list, target)) === "reject")
        return run.finish(run.rejected ?? SERVER_CONFIGURATION_ERROR);
    }
    return run.finish(run.deferIfPermitReply);
  } catch (error) {
    if (error instanceof Abort) return run.finish(error.reply);
    // Whatever went wrong, it must not turn into a permit.
    run.warn(`policy evaluation failed: ${describe(error)}`);
    return run.finish(SERVER_CONFIGURATION_ERROR);
  }
}

/** Postfix's longjmp out of smtpd_check: ends the evaluation with this reply. */
class Abort {
  readonly reply: SmtpReply;
  constructor(reply: SmtpReply) {
    this.reply = reply;
  }
}

class Evaluation {
  readonly facts: RecipientFacts;
  readonly login: string | null;
  readonly warnings: string[] = [];
  rejected: SmtpReply | null = null;
  deferIfPermitReply: SmtpReply | null = null;
  #deferIfRejectReply: SmtpReply | null = null;
  /** Nesting level of the restriction list being run (1 = a configured list). */
  #depth = 0;
  /** The level at which warn_if_reject was given, 0 when off. */
  #warnIfReject = 0;
  #hold: string | undefined;
  #discard: string | undefined;
  #owners: Promise<string[] | null> | undefined;

  constructor(facts: RecipientFacts) {
    this.facts = facts;
    this.login = facts.sasl?.username ? facts.sasl.username : null;
  }

  startStage(): void {
    this.#depth = 0;
    this.#warnIfReject = 0;
    this.#deferIfRejectReply = null;
  }

  async list(list: readonly Restriction[], target: ReplyTarget): Promise<CheckStatus> {
    const saved = this.#depth;
    this.#depth += 1;
    const ctx = this.#context(target);
    let status: CheckStatus = "dunno";
    try {
      for (const entry of list) {
        if (this.#discard !== undefined) break;
        const spec: RestrictionSpec = RESTRICTIONS[entry.name];
        status = await spec.check(ctx, entry.table);
        if (spec.modifier) continue;
        if (this.#warnIfReject >= this.#depth) this.#warnIfReject = 0;
        if (status !== "dunno") break;
        // Both raised: whatever comes next, the answer is a deferral.
        if (this.deferIfPermitReply && this.#deferIfRejectReply) break;
      }
    } finally {
      this.#depth = saved;
      if (this.#warnIfReject >= this.#depth) this.#warnIfReject = 0;
    }
    return status;
  }

  finish(reply: SmtpReply | null): RecipientDecision {
    const decision: RecipientDecision = {
      decision: reply === null ? "permit" : reply.code >= 500 ? "reject" : "defer",
      warnings: this.warnings,
    };
    if (reply) decision.reply = { ...reply };
    if (this.#hold !== undefined) decision.hold = this.#hold;
    if (this.#discard !== undefined) decision.discard = this.#discard;
    return decision;
  }

  warn(text: string): void {
    this.warnings.push(printable(`warning: ${text}`, 1000));
  }

  #log(what: string, text: string): void {
    const { client, sender, recipient } = this.facts;
    this.warnings.push(
      printable(
        `${what}: RCPT from ${client.name}[${client.address}]: ${text}; from=<${sender}> to=<${recipient}>`,
        1000,
      ),
    );
  }

  // smtpd_check_reject(): warn_if_reject turns the reject into a log line; an earlier
  // defer_if_reject turns a 5xx into its own 4xx.
  #reject(reply: SmtpReply): CheckStatus {
    if (this.#warnIfReject) {
      this.#log("reject_warning", renderReply(reply));
      return "dunno";
    }
    if (this.#deferIfRejectReply && reply.code >= 500) {
      this.rejected = this.#deferIfRejectReply;
      this.#deferIfRejectReply = null;
      return "reject";
    }
    this.rejected = reply;
    return "reject";
  }

  #abort(reply: SmtpReply, warning: string): never {
    this.warn(warning);
    throw new Abort(reply);
  }

  async #senderOwners(): Promise<string[] | null> {
    const { senderLoginMaps, sender, localDomains } = this.facts;
    this.#owners ??= findSenderOwners(senderLoginMaps, sender, localDomains);
    try {
      return await this.#owners;
    } catch (error) {
      const why = `smtpd_sender_login_maps lookup of <${sender}> failed: ${describe(error)}`;
      // Postfix: a table that may answer later is a temporary lookup failure, anything else a
      // configuration error.
      if (isTransient(error)) {
        this.#abort(makeReply(451, "4.3.0", `<${printable(sender)}>: Temporary lookup failure`), why);
      }
      this.#abort(SERVER_CONFIGURATION_ERROR, why);
    }
  }

  async #applyNested(names: readonly string[], table: string, target: ReplyTarget): Promise<CheckStatus> {
    const value = names.join(" ");
    if (this.#depth >= MAX_NESTING) {
      this.#abort(
        SERVER_CONFIGURATION_ERROR,
        `access table ${table} entry "${value}" causes unreasonable recursion`,
      );
    }
    let list: Restriction[];
    try {
      list = parseRestrictions(value);
    } catch (error) {
      this.#abort(SERVER_CONFIGURATION_ERROR, `access table ${table}: ${describe(error)}`);
    }
    return this.list(list, target);
  }

  #context(target: ReplyTarget): CheckContext {
    return {
      facts: this.facts,
      target,
      login: this.login,
      reject: (reply) => this.#reject(reply),
      deferIfPermit: (reply) => {
        // With warn_if_reject Postfix logs it as a would-be reject instead (DEFER_IF_PERMIT2).
        if (this.#warnIfReject) return this.#reject(reply);
        this.deferIfPermitReply ??= reply;
        return "dunno";
      },
      deferIfReject: (reply) => {
        this.#deferIfRejectReply ??= reply;
        return "dunno";
      },
      warnIfReject: () => {
        if (this.#warnIfReject === 0) this.#warnIfReject = this.#depth;
      },
      abort: (reply, warning) => this.#abort(reply, warning),
      hold: (text) => {
        this.#hold ??= text;
      },
      discard: (text) => {
        this.#discard ??= text;
      },
      log: (what, text) => this.#log(what, text),
      senderOwners: () => this.#senderOwners(),
      applyNested: (names, table) => this.#applyNested(names, table, target),
      withTarget: (next) => this.#context(next),
    };
  }
}

function isTransient(error: unknown): boolean {
  return typeof error === "object" && error !== null && (error as { transient?: unknown }).transient === true;
}

const describe = (error: unknown) => (error instanceof Error ? error.message : String(error));
