// The restriction table: Postfix's names, what each takes, and what it does. Replies are Postfix's
// (smtpd_check.c) word for word; the evaluator supplies warn_if_reject, defer_if_* and the order.
import { parseAccessAction } from "../maps/access-action.ts";
import { lookupFirst } from "../maps/lookup-first.ts";
import type { LookupTable } from "../maps/lookup-table.ts";
import { printable } from "../printable.ts";
import { applyAccessAction } from "./apply-access-action.ts";
import { isAuthorizedDestination } from "./authorized-destination.ts";
import type { CheckContext, CheckStatus } from "./check-context.ts";
import { matchNetwork } from "./network-list.ts";
import { makeReply } from "./smtp-reply.ts";

export interface RestrictionSpec {
  /** check_sasl_access takes the next item of the list as its `type:table`. */
  readonly takesTable: boolean;
  /** warn_if_reject modifies the restriction after it rather than deciding anything itself. */
  readonly modifier?: boolean;
  readonly check: (ctx: CheckContext, table: string | undefined) => CheckStatus | Promise<CheckStatus>;
}

// Postfix's defaults for reject_code, defer_code, relay_domains_reject_code.
const REJECT_CODE = 554;
const DEFER_CODE = 450;
const RELAY_CODE = 554;

const generic = (ctx: CheckContext, code: number, enhanced: string, text: string) =>
  makeReply(code, enhanced, `<${printable(ctx.target.name)}>: ${ctx.target.class} rejected: ${text}`);

function unauthDestination(ctx: CheckContext, code: number, enhanced: string): CheckStatus {
  const { recipient, localDomains, relayDomains } = ctx.facts;
  if (isAuthorizedDestination(recipient, localDomains, relayDomains)) return "dunno";
  return ctx.reject(makeReply(code, enhanced, `<${printable(recipient)}>: Relay access denied`));
}

/** Authenticated client: reject unless the login owns the sender (or, with allowUnlisted, nobody does). */
async function authenticatedMismatch(ctx: CheckContext, allowUnlisted: boolean): Promise<CheckStatus> {
  const { sender, senderLoginMaps } = ctx.facts;
  const login = ctx.login;
  // Postfix skips these checks when no smtpd_sender_login_maps is configured.
  if (login === null || sender === "" || senderLoginMaps.length === 0) return "dunno";
  const owners = await ctx.senderOwners();
  if (owners === null && allowUnlisted) return "dunno";
  const wanted = login.toLowerCase();
  if (owners?.some((owner) => owner.toLowerCase() === wanted)) return "dunno";
  return ctx.reject(
    makeReply(
      553,
      "5.7.1",
      `<${printable(sender)}>: Sender address rejected: not owned by user ${printable(login)}`,
    ),
  );
}

/** Unauthenticated client: reject a sender that some login owns. */
async function unauthenticatedMismatch(ctx: CheckContext): Promise<CheckStatus> {
  const { sender, senderLoginMaps } = ctx.facts;
  if (ctx.login !== null || sender === "" || senderLoginMaps.length === 0) return "dunno";
  if ((await ctx.senderOwners()) === null) return "dunno";
  return ctx.reject(
    makeReply(553, "5.7.1", `<${printable(sender)}>: Sender address rejected: not logged in`),
  );
}

async function checkSaslAccess(ctx: CheckContext, spec: string): Promise<CheckStatus> {
  const login = ctx.login;
  if (login === null) return "dunno";
  const target = ctx.withTarget({ name: printable(login), class: "SASL login name" });
  let value: string | null;
  try {
    const table: LookupTable = ctx.facts.openTable(spec);
    value = await lookupFirst([table], login);
  } catch (error) {
    // Postfix answers a failed access-table lookup as if the table said "451 4.3.5 Server
    // configuration error" (check_access()).
    return target.abort(
      makeReply(451, "4.3.5", `<${printable(login)}>: SASL login name rejected: Server configuration error`),
      `check_sasl_access ${spec}: lookup of <${login}> failed: ${describe(error)}`,
    );
  }
  if (value === null) return "dunno";
  return applyAccessAction(target, parseAccessAction(value), spec);
}

const describe = (error: unknown) => (error instanceof Error ? error.message : String(error));

export const RESTRICTIONS = {
  permit: { takesTable: false, check: () => "ok" },
  reject: {
    takesTable: false,
    check: (ctx) => ctx.reject(generic(ctx, REJECT_CODE, "5.7.1", "Access denied")),
  },
  defer: {
    takesTable: false,
    check: (ctx) => ctx.reject(generic(ctx, DEFER_CODE, "4.3.2", "Try again later")),
  },
  defer_if_permit: {
    takesTable: false,
    check: (ctx) => ctx.deferIfPermit(generic(ctx, 450, "4.7.0", "defer_if_permit requested")),
  },
  defer_if_reject: {
    takesTable: false,
    check: (ctx) => ctx.deferIfReject(generic(ctx, 450, "4.7.0", "defer_if_reject requested")),
  },
  warn_if_reject: {
    takesTable: false,
    modifier: true,
    check: (ctx) => {
      ctx.warnIfReject();
      return "dunno";
    },
  },
  permit_mynetworks: {
    takesTable: false,
    check: (ctx) => (matchNetwork(ctx.facts.mynetworks, ctx.facts.client.address) ? "ok" : "dunno"),
  },
  permit_sasl_authenticated: {
    takesTable: false,
    check: (ctx) => (ctx.login !== null ? "ok" : "dunno"),
  },
  permit_auth_destination: {
    takesTable: false,
    check: (ctx) => {
      const { recipient, localDomains, relayDomains } = ctx.facts;
      return isAuthorizedDestination(recipient, localDomains, relayDomains) ? "ok" : "dunno";
    },
  },
  reject_unauth_destination: {
    takesTable: false,
    check: (ctx) => unauthDestination(ctx, RELAY_CODE, "5.7.1"),
  },
  defer_unauth_destination: {
    takesTable: false,
    // relay_domains_reject_code - 100, as Postfix: the familiar "454 4.7.1 Relay access denied".
    check: (ctx) => unauthDestination(ctx, RELAY_CODE - 100, "4.7.1"),
  },
  reject_authenticated_sender_login_mismatch: {
    takesTable: false,
    check: (ctx) => authenticatedMismatch(ctx, false),
  },
  reject_unauthenticated_sender_login_mismatch: {
    takesTable: false,
    check: (ctx) => unauthenticatedMismatch(ctx),
  },
  // Postfix defines it as "reject_authenticated_sender_login_mismatch,
  // reject_unauthenticated_sender_login_mismatch"; at most one of the two applies.
  reject_sender_login_mismatch: {
    takesTable: false,
    check: (ctx) => (ctx.login !== null ? authenticatedMismatch(ctx, false) : unauthenticatedMismatch(ctx)),
  },
  reject_known_sender_login_mismatch: {
    takesTable: false,
    check: (ctx) => (ctx.login !== null ? authenticatedMismatch(ctx, true) : unauthenticatedMismatch(ctx)),
  },
  check_sasl_access: {
    takesTable: true,
    check: (ctx, table) => checkSaslAccess(ctx, table ?? ""),
  },
} as const satisfies Record<string, RestrictionSpec>;

export type RestrictionName = keyof typeof RESTRICTIONS;

export function isRestrictionName(name: string): name is RestrictionName {
  return Object.hasOwn(RESTRICTIONS, name);
}
