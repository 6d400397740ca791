import { describe, expect, it } from "vitest";
import type { LookupTable } from "../maps/lookup-table.ts";
import { openTable } from "../maps/open-table.ts";
import {
  decide,
  type Outcome,
  outcome,
  type Request,
  STRANGER,
  TRUSTED,
} from "./evaluate-recipient.fixture.ts";
import { evaluateRecipient } from "./evaluate-recipient.ts";
import { parseNetworkList } from "./network-list.ts";
import type { RestrictionName } from "./restrictions.ts";

const RELAY_DENIED = "554 5.7.1 <bob@remote.test>: Relay access denied";
const RCPT_DENIED = "554 5.7.1 <bob@remote.test>: Recipient address rejected: Access denied";
const PERMIT: Outcome = { decision: "permit" };
const rejected = (reply: string): Outcome => ({ decision: "reject", reply });
const deferred = (reply: string): Outcome => ({ decision: "defer", reply });

type Case = { name: string; input: Request; want: Outcome };

function table(cases: Case[]): void {
  for (const { name, input, want } of cases) {
    it(name, async () => expect(await outcome(input)).toEqual(want));
  }
}

describe("evaluateRecipient: each restriction", () => {
  table([
    { name: "no restrictions at all: implicit permit", input: {}, want: PERMIT },
    { name: "permit", input: { recipientRestrictions: "permit" }, want: PERMIT },
    {
      name: "reject in the recipient list",
      input: { recipientRestrictions: "reject" },
      want: rejected(RCPT_DENIED),
    },
    {
      name: "reject in the sender list names the sender",
      input: { senderRestrictions: "reject" },
      want: rejected("554 5.7.1 <alice@example.com>: Sender address rejected: Access denied"),
    },
    {
      name: "reject in the sender list, null sender",
      input: { sender: "", senderRestrictions: "reject" },
      want: rejected("554 5.7.1 <>: Sender address rejected: Access denied"),
    },
    {
      name: "defer (Postfix: 450 4.3.2 Try again later)",
      input: { recipientRestrictions: "defer" },
      want: deferred("450 4.3.2 <bob@remote.test>: Recipient address rejected: Try again later"),
    },
    {
      name: "defer in the sender list",
      input: { senderRestrictions: "defer" },
      want: deferred("450 4.3.2 <alice@example.com>: Sender address rejected: Try again later"),
    },
    {
      name: "permit_mynetworks: trusted client",
      input: { client: TRUSTED, relayRestrictions: "permit_mynetworks, reject" },
      want: PERMIT,
    },
    {
      name: "permit_mynetworks: IPv4-mapped trusted client",
      input: { client: "::ffff:192.168.1.10", relayRestrictions: "permit_mynetworks, reject" },
      want: PERMIT,
    },
    {
      name: "permit_mynetworks: IPv6 trusted client",
      input: { client: "::1", relayRestrictions: "permit_mynetworks, reject" },
      want: PERMIT,
    },
    {
      name: "permit_mynetworks: stranger",
      input: { relayRestrictions: "permit_mynetworks, reject" },
      want: rejected(RCPT_DENIED),
    },
    {
      name: "permit_sasl_authenticated: authenticated",
      input: { login: "alice", relayRestrictions: "permit_sasl_authenticated, reject" },
      want: PERMIT,
    },
    {
      name: "permit_sasl_authenticated: not authenticated",
      input: { relayRestrictions: "permit_sasl_authenticated, reject" },
      want: rejected(RCPT_DENIED),
    },
    {
      name: "permit_sasl_authenticated: an empty login is not authenticated",
      input: { login: "", relayRestrictions: "permit_sasl_authenticated, reject" },
      want: rejected(RCPT_DENIED),
    },
    {
      name: "permit_auth_destination: mydestination",
      input: { recipient: "bob@example.com", relayRestrictions: "permit_auth_destination, reject" },
      want: PERMIT,
    },
    {
      name: "permit_auth_destination: relay_domains",
      input: { recipient: "bob@relay.test", relayRestrictions: "permit_auth_destination, reject" },
      want: PERMIT,
    },
    {
      name: "permit_auth_destination: elsewhere",
      input: { relayRestrictions: "permit_auth_destination, reject" },
      want: rejected(RCPT_DENIED),
    },
    {
      name: "reject_unauth_destination: elsewhere",
      input: { relayRestrictions: "reject_unauth_destination" },
      want: rejected(RELAY_DENIED),
    },
    {
      name: "reject_unauth_destination: mydestination passes (dunno, then implicit permit)",
      input: { recipient: "bob@example.com", relayRestrictions: "reject_unauth_destination" },
      want: PERMIT,
    },
    {
      name: "reject_unauth_destination is dunno, not permit",
      input: { recipient: "bob@example.com", relayRestrictions: "reject_unauth_destination, reject" },
      want: rejected("554 5.7.1 <bob@example.com>: Recipient address rejected: Access denied"),
    },
    {
      name: "reject_unauth_destination: relay_domains subdomain passes",
      input: { recipient: "bob@mx.relay.test", relayRestrictions: "reject_unauth_destination" },
      want: PERMIT,
    },
    {
      name: "reject_unauth_destination in the sender list still names the recipient",
      input: { senderRestrictions: "reject_unauth_destination" },
      want: rejected(RELAY_DENIED),
    },
    {
      name: "defer_unauth_destination (Postfix: 454 4.7.1)",
      input: { relayRestrictions: "defer_unauth_destination" },
      want: deferred("454 4.7.1 <bob@remote.test>: Relay access denied"),
    },
    {
      name: "defer_if_permit: an eventual permit becomes a defer",
      input: { recipientRestrictions: "defer_if_permit, permit" },
      want: deferred("450 4.7.0 <bob@remote.test>: Recipient address rejected: defer_if_permit requested"),
    },
    {
      name: "defer_if_permit: the implicit permit too",
      input: { recipientRestrictions: "defer_if_permit" },
      want: deferred("450 4.7.0 <bob@remote.test>: Recipient address rejected: defer_if_permit requested"),
    },
    {
      name: "defer_if_permit: a later reject still rejects",
      input: { recipientRestrictions: "defer_if_permit, reject" },
      want: rejected(RCPT_DENIED),
    },
    {
      name: "defer_if_reject: a later 5xx becomes the defer",
      input: { recipientRestrictions: "defer_if_reject, reject" },
      want: deferred("450 4.7.0 <bob@remote.test>: Recipient address rejected: defer_if_reject requested"),
    },
    {
      name: "defer_if_reject: a later 4xx stays itself",
      input: { recipientRestrictions: "defer_if_reject, defer" },
      want: deferred("450 4.3.2 <bob@remote.test>: Recipient address rejected: Try again later"),
    },
    {
      name: "defer_if_reject: a permit stays a permit",
      input: { recipientRestrictions: "defer_if_reject, permit" },
      want: PERMIT,
    },
    {
      name: "defer_if_reject: Relay access denied becomes the defer",
      input: { relayRestrictions: "defer_if_reject, reject_unauth_destination" },
      want: deferred("450 4.7.0 <bob@remote.test>: Recipient address rejected: defer_if_reject requested"),
    },
    {
      name: "defer_if_permit and defer_if_reject together: nothing after them matters",
      input: { recipientRestrictions: "defer_if_permit, defer_if_reject, reject" },
      want: deferred("450 4.7.0 <bob@remote.test>: Recipient address rejected: defer_if_permit requested"),
    },
    {
      name: "warn_if_reject, reject: only logged",
      input: { recipientRestrictions: "warn_if_reject, reject" },
      want: PERMIT,
    },
    {
      name: "warn_if_reject covers only the next restriction",
      input: { relayRestrictions: "warn_if_reject, permit_sasl_authenticated, reject" },
      want: rejected(RCPT_DENIED),
    },
    {
      name: "warn_if_reject, reject_unauth_destination, then a real reject",
      input: { relayRestrictions: "warn_if_reject reject_unauth_destination reject" },
      want: rejected(RCPT_DENIED),
    },
    {
      name: "warn_if_reject, defer_if_permit: only logged, no deferral",
      input: { recipientRestrictions: "warn_if_reject, defer_if_permit, permit" },
      want: PERMIT,
    },
    {
      name: "warn_if_reject before defer_if_reject does not stop it",
      input: { recipientRestrictions: "warn_if_reject, defer_if_reject, reject" },
      want: deferred("450 4.7.0 <bob@remote.test>: Recipient address rejected: defer_if_reject requested"),
    },
    {
      name: "warn_if_reject at the end of the sender list does not reach the relay list",
      input: { senderRestrictions: "warn_if_reject", relayRestrictions: "reject" },
      want: rejected(RCPT_DENIED),
    },
  ]);

  it("warn_if_reject logs the reject Postfix-style", async () => {
    const result = await decide({ recipientRestrictions: "warn_if_reject, reject_unauth_destination" });
    expect(result.decision).toBe("permit");
    expect(result.warnings).toEqual([
      `reject_warning: RCPT from unknown[${STRANGER}]: ${RELAY_DENIED}; from=<alice@example.com> to=<bob@remote.test>`,
    ]);
  });

  it("warn_if_reject, defer_if_permit logs the would-be deferral", async () => {
    const result = await decide({ recipientRestrictions: "warn_if_reject defer_if_permit" });
    expect(result.warnings).toEqual([
      `reject_warning: RCPT from unknown[${STRANGER}]: 450 4.7.0 <bob@remote.test>: Recipient address rejected: defer_if_permit requested; from=<alice@example.com> to=<bob@remote.test>`,
    ]);
  });
});

describe("evaluateRecipient: sender login mismatch", () => {
  const notOwned = (sender: string, login: string) =>
    rejected(`553 5.7.1 <${sender}>: Sender address rejected: not owned by user ${login}`);
  const notLoggedIn = (sender: string) =>
    rejected(`553 5.7.1 <${sender}>: Sender address rejected: not logged in`);

  // The situations of the table in postfix-semantics.md.
  const situations = {
    "authenticated owner": { login: "alice", sender: "alice@example.com" },
    "authenticated, listed, not an owner": { login: "carol", sender: "alice@example.com" },
    "authenticated, unlisted sender": { login: "alice", sender: "alice@remote.test" },
    "unauthenticated, listed sender": { login: null, sender: "alice@example.com" },
    "unauthenticated, unlisted sender": { login: null, sender: "alice@remote.test" },
    "authenticated, null sender": { login: "alice", sender: "" },
    "unauthenticated, null sender": { login: null, sender: "" },
  } as const;
  type Situation = keyof typeof situations;

  const expected: Record<string, Record<Situation, Outcome>> = {
    reject_sender_login_mismatch: {
      "authenticated owner": PERMIT,
      "authenticated, listed, not an owner": notOwned("alice@example.com", "carol"),
      "authenticated, unlisted sender": notOwned("alice@remote.test", "alice"),
      "unauthenticated, listed sender": notLoggedIn("alice@example.com"),
      "unauthenticated, unlisted sender": PERMIT,
      "authenticated, null sender": PERMIT,
      "unauthenticated, null sender": PERMIT,
    },
    reject_authenticated_sender_login_mismatch: {
      "authenticated owner": PERMIT,
      "authenticated, listed, not an owner": notOwned("alice@example.com", "carol"),
      "authenticated, unlisted sender": notOwned("alice@remote.test", "alice"),
      "unauthenticated, listed sender": PERMIT,
      "unauthenticated, unlisted sender": PERMIT,
      "authenticated, null sender": PERMIT,
      "unauthenticated, null sender": PERMIT,
    },
    reject_unauthenticated_sender_login_mismatch: {
      "authenticated owner": PERMIT,
      "authenticated, listed, not an owner": PERMIT,
      "authenticated, unlisted sender": PERMIT,
      "unauthenticated, listed sender": notLoggedIn("alice@example.com"),
      "unauthenticated, unlisted sender": PERMIT,
      "authenticated, null sender": PERMIT,
      "unauthenticated, null sender": PERMIT,
    },
    reject_known_sender_login_mismatch: {
      "authenticated owner": PERMIT,
      "authenticated, listed, not an owner": notOwned("alice@example.com", "carol"),
      "authenticated, unlisted sender": PERMIT,
      "unauthenticated, listed sender": notLoggedIn("alice@example.com"),
      "unauthenticated, unlisted sender": PERMIT,
      "authenticated, null sender": PERMIT,
      "unauthenticated, null sender": PERMIT,
    },
  };

  const matrix: Case[] = [];
  for (const [restriction, row] of Object.entries(expected)) {
    for (const [situation, want] of Object.entries(row)) {
      const { login, sender } = situations[situation as Situation];
      matrix.push({
        name: `${restriction}: ${situation}`,
        input: { login, sender, senderRestrictions: restriction },
        want,
      });
    }
  }
  table(matrix);

  table([
    {
      name: "owners compare case-insensitively (login)",
      input: {
        login: "ALICE",
        sender: "alice@example.com",
        senderRestrictions: "reject_sender_login_mismatch",
      },
      want: PERMIT,
    },
    {
      name: "owners compare case-insensitively (table value)",
      input: {
        login: "bob",
        sender: "shared@example.com",
        senderRestrictions: "reject_sender_login_mismatch",
      },
      want: PERMIT,
    },
    {
      name: "sender compares case-insensitively",
      input: {
        login: "alice",
        sender: "Alice@EXAMPLE.com",
        senderRestrictions: "reject_sender_login_mismatch",
      },
      want: PERMIT,
    },
    {
      name: "multiple owners: the first",
      input: {
        login: "alice",
        sender: "shared@example.com",
        senderRestrictions: "reject_sender_login_mismatch",
      },
      want: PERMIT,
    },
    {
      name: "multiple owners: someone else",
      input: {
        login: "carol",
        sender: "shared@example.com",
        senderRestrictions: "reject_sender_login_mismatch",
      },
      want: notOwned("shared@example.com", "carol"),
    },
    {
      name: "owned through the bare user key (local domain)",
      input: {
        login: "admin",
        sender: "postmaster@example.com",
        senderRestrictions: "reject_sender_login_mismatch",
      },
      want: PERMIT,
    },
    {
      name: "the bare user key does not apply to a remote domain",
      input: {
        login: "admin",
        sender: "postmaster@remote.test",
        senderRestrictions: "reject_sender_login_mismatch",
      },
      want: notOwned("postmaster@remote.test", "admin"),
    },
    {
      name: "owned through @domain",
      input: {
        login: "owner",
        sender: "anyone@owned.test",
        senderRestrictions: "reject_sender_login_mismatch",
      },
      want: PERMIT,
    },
    {
      name: "@domain protects the whole domain from strangers",
      input: { login: null, sender: "anyone@owned.test", senderRestrictions: "reject_sender_login_mismatch" },
      want: notLoggedIn("anyone@owned.test"),
    },
    {
      name: "listed with no owners: nobody may use it",
      input: {
        login: "alice",
        sender: "nobody@example.com",
        senderRestrictions: "reject_known_sender_login_mismatch",
      },
      want: notOwned("nobody@example.com", "alice"),
    },
    {
      name: "no smtpd_sender_login_maps: Postfix skips the check",
      input: {
        login: "alice",
        sender: "ceo@remote.test",
        senderLoginMaps: [],
        senderRestrictions: "reject_sender_login_mismatch",
      },
      want: PERMIT,
    },
    {
      name: "no smtpd_sender_login_maps, unauthenticated",
      input: {
        login: null,
        sender: "alice@example.com",
        senderLoginMaps: [],
        senderRestrictions: "reject_sender_login_mismatch",
      },
      want: PERMIT,
    },
    {
      name: "mismatch in the relay list works the same",
      input: { login: "carol", relayRestrictions: "reject_sender_login_mismatch, permit_sasl_authenticated" },
      want: notOwned("alice@example.com", "carol"),
    },
    {
      name: "sender list first: a mismatch wins over the relay list's permit",
      input: {
        login: "carol",
        senderRestrictions: "reject_sender_login_mismatch",
        relayRestrictions: "permit_sasl_authenticated",
      },
      want: notOwned("alice@example.com", "carol"),
    },
  ]);

  it("looks the sender up once per evaluation", async () => {
    const asked: string[] = [];
    const maps: LookupTable[] = [
      {
        lookup: async (key) => {
          asked.push(key);
          return key === "alice@example.com" ? "alice" : null;
        },
      },
    ];
    await outcome({
      login: "alice",
      senderLoginMaps: maps,
      senderRestrictions: "reject_sender_login_mismatch",
      relayRestrictions: "reject_known_sender_login_mismatch",
      recipientRestrictions: "reject_authenticated_sender_login_mismatch",
    });
    expect(asked).toEqual(["alice@example.com"]);
  });

  const failing = (transient: boolean): LookupTable[] => [
    { lookup: () => Promise.reject(Object.assign(new Error("database is locked"), { transient })) },
  ];
  table([
    {
      name: "a transient lookup failure: 451 4.3.0 Temporary lookup failure",
      input: {
        login: "alice",
        senderLoginMaps: failing(true),
        senderRestrictions: "reject_sender_login_mismatch",
      },
      want: deferred("451 4.3.0 <alice@example.com>: Temporary lookup failure"),
    },
    {
      name: "any other lookup failure: 451 4.3.5 Server configuration error",
      input: {
        login: "alice",
        senderLoginMaps: failing(false),
        senderRestrictions: "reject_sender_login_mismatch",
      },
      want: deferred("451 4.3.5 Server configuration error"),
    },
    {
      name: "a lookup failure is not softened by warn_if_reject",
      input: {
        login: "alice",
        senderLoginMaps: failing(false),
        senderRestrictions: "warn_if_reject, reject_sender_login_mismatch",
      },
      want: deferred("451 4.3.5 Server configuration error"),
    },
    {
      name: "an unauthenticated client and a failing table",
      input: {
        login: null,
        senderLoginMaps: failing(true),
        senderRestrictions: "reject_unauthenticated_sender_login_mismatch",
      },
      want: deferred("451 4.3.0 <alice@example.com>: Temporary lookup failure"),
    },
  ]);

  it("reports the failed lookup in the warnings", async () => {
    const result = await decide({
      login: "alice",
      senderLoginMaps: failing(false),
      senderRestrictions: "reject_sender_login_mismatch",
    });
    expect(result.warnings).toEqual([
      "warning: smtpd_sender_login_maps lookup of <alice@example.com> failed: database is locked",
    ]);
  });
});

describe("evaluateRecipient: check_sasl_access", () => {
  const ACCESS = `inline:{ { rej = REJECT }, { rejtext = REJECT no relay for you }, { rejcode = REJECT 5.7.9 go away },
    { def = DEFER }, { deftext = DEFER later }, { defcode = DEFER 4.3.2 busy }, { c550 = 550 mailbox says no },
    { c421 = 421 4.7.0 closing }, { c450 = 450 5.7.3 wrong class }, { addr = REJECT 5.1.1 no such login },
    { ok = OK }, { num = 1699999999 }, { dunno = DUNNO }, { hold = HOLD }, { holdtext = HOLD review me },
    { discard = DISCARD }, { discardtext = DISCARD spam trap }, { dip = DEFER_IF_PERMIT }, { diptext = DEFER_IF_PERMIT 4.7.5 wait },
    { dir = DEFER_IF_REJECT }, { dirtext = DEFER_IF_REJECT not yet }, { warn = WARN odd login }, { info = INFO hello },
    { list = permit_mynetworks reject }, { permitlist = permit }, { bogus = FROB }, { filter = FILTER smtp:[x] },
    { nested = check_sasl_access static:OK }, { empty = } }`;
  const relay = (tail: string) => `check_sasl_access ${ACCESS}, ${tail}`;
  const sasl = (login: string, suffix = "Access denied") => `<${login}>: SASL login name rejected: ${suffix}`;

  table([
    {
      name: "REJECT",
      input: { login: "rej", relayRestrictions: relay("permit") },
      want: rejected(`554 5.7.1 ${sasl("rej")}`),
    },
    {
      name: "REJECT text",
      input: { login: "rejtext", relayRestrictions: relay("permit") },
      want: rejected(`554 5.7.1 ${sasl("rejtext", "no relay for you")}`),
    },
    {
      name: "REJECT with an enhanced code",
      input: { login: "rejcode", relayRestrictions: relay("permit") },
      want: rejected(`554 5.7.9 ${sasl("rejcode", "go away")}`),
    },
    {
      name: "REJECT with an address status: a login is not an address (X.0.0)",
      input: { login: "addr", relayRestrictions: relay("permit") },
      want: rejected(`554 5.0.0 ${sasl("addr", "no such login")}`),
    },
    {
      name: "DEFER",
      input: { login: "def", relayRestrictions: relay("permit") },
      want: deferred(`450 4.7.1 ${sasl("def")}`),
    },
    {
      name: "DEFER text",
      input: { login: "deftext", relayRestrictions: relay("permit") },
      want: deferred(`450 4.7.1 ${sasl("deftext", "later")}`),
    },
    {
      name: "DEFER with an enhanced code",
      input: { login: "defcode", relayRestrictions: relay("permit") },
      want: deferred(`450 4.3.2 ${sasl("defcode", "busy")}`),
    },
    {
      name: "5NN text",
      input: { login: "c550", relayRestrictions: relay("permit") },
      want: rejected(`550 5.7.1 ${sasl("c550", "mailbox says no")}`),
    },
    {
      name: "4NN with an enhanced code",
      input: { login: "c421", relayRestrictions: relay("permit") },
      want: deferred(`421 4.7.0 ${sasl("c421", "closing")}`),
    },
    {
      name: "4NN with a 5.x.x code: the class follows the reply code",
      input: { login: "c450", relayRestrictions: relay("permit") },
      want: deferred(`450 4.7.3 ${sasl("c450", "wrong class")}`),
    },
    { name: "OK ends the list", input: { login: "ok", relayRestrictions: relay("reject") }, want: PERMIT },
    {
      name: "all-numerical is OK",
      input: { login: "num", relayRestrictions: relay("reject") },
      want: PERMIT,
    },
    {
      name: "DUNNO goes on",
      input: { login: "dunno", relayRestrictions: relay("reject") },
      want: rejected(RCPT_DENIED),
    },
    {
      name: "not in the table goes on",
      input: { login: "zed", relayRestrictions: relay("reject") },
      want: rejected(RCPT_DENIED),
    },
    {
      name: "unauthenticated: skipped",
      input: { login: null, relayRestrictions: relay("reject") },
      want: rejected(RCPT_DENIED),
    },
    {
      name: "unauthenticated with an OK-for-everyone table: still skipped",
      input: { login: null, relayRestrictions: "check_sasl_access static:OK, reject" },
      want: rejected(RCPT_DENIED),
    },
    {
      name: "the key is folded; the reply shows the login as given",
      input: { login: "REJ", relayRestrictions: relay("permit") },
      want: rejected(`554 5.7.1 ${sasl("REJ")}`),
    },
    {
      name: "HOLD marks the message and goes on (to a permit)",
      input: { login: "hold", relayRestrictions: relay("permit") },
      want: { decision: "permit", hold: "<hold>: SASL login name triggers HOLD action" },
    },
    {
      name: "HOLD goes on (to a reject) and is still reported",
      input: { login: "holdtext", relayRestrictions: relay("reject") },
      want: { decision: "reject", reply: RCPT_DENIED, hold: "<holdtext>: SASL login name review me" },
    },
    {
      name: "DISCARD permits and is reported",
      input: { login: "discard", relayRestrictions: relay("reject") },
      want: { decision: "permit", discard: "<discard>: SASL login name triggers DISCARD action" },
    },
    {
      name: "DISCARD skips the remaining lists",
      input: { login: "discardtext", relayRestrictions: relay("reject"), recipientRestrictions: "reject" },
      want: { decision: "permit", discard: "<discardtext>: SASL login name spam trap" },
    },
    {
      name: "DISCARD in the sender list skips relay control too",
      input: {
        login: "discard",
        senderRestrictions: `check_sasl_access ${ACCESS}`,
        relayRestrictions: "reject_unauth_destination",
      },
      want: { decision: "permit", discard: "<discard>: SASL login name triggers DISCARD action" },
    },
    {
      name: "DEFER_IF_PERMIT, then a permit: deferred",
      input: { login: "dip", relayRestrictions: relay("permit") },
      want: deferred(`450 4.7.1 ${sasl("dip", "Service unavailable")}`),
    },
    {
      name: "DEFER_IF_PERMIT with code and text",
      input: { login: "diptext", relayRestrictions: relay("permit") },
      want: deferred(`450 4.7.5 ${sasl("diptext", "wait")}`),
    },
    {
      name: "DEFER_IF_PERMIT, then a reject: rejected",
      input: { login: "dip", relayRestrictions: relay("reject") },
      want: rejected(RCPT_DENIED),
    },
    {
      name: "DEFER_IF_REJECT, then a reject: deferred",
      input: { login: "dir", relayRestrictions: relay("reject") },
      want: deferred(`450 4.7.1 ${sasl("dir", "Service unavailable")}`),
    },
    {
      name: "DEFER_IF_REJECT text, then Relay access denied: deferred",
      input: { login: "dirtext", relayRestrictions: relay("reject_unauth_destination") },
      want: deferred(`450 4.7.1 ${sasl("dirtext", "not yet")}`),
    },
    {
      name: "DEFER_IF_REJECT, then a permit: permitted",
      input: { login: "dir", relayRestrictions: relay("permit") },
      want: PERMIT,
    },
    {
      name: "WARN goes on",
      input: { login: "warn", relayRestrictions: relay("reject") },
      want: rejected(RCPT_DENIED),
    },
    {
      name: "a restriction list is applied in place, naming the login",
      input: { login: "list", relayRestrictions: relay("permit") },
      want: rejected(`554 5.7.1 ${sasl("list")}`),
    },
    {
      name: "a restriction list that permits",
      input: { login: "list", client: TRUSTED, relayRestrictions: relay("reject") },
      want: PERMIT,
    },
    {
      name: "a permit from the list ends the outer list",
      input: { login: "permitlist", relayRestrictions: relay("reject") },
      want: PERMIT,
    },
    {
      name: "an unknown action: 451 4.3.5",
      input: { login: "bogus", relayRestrictions: relay("permit") },
      want: deferred("451 4.3.5 Server configuration error"),
    },
    {
      name: "an unsupported action (FILTER): 451 4.3.5",
      input: { login: "filter", relayRestrictions: relay("permit") },
      want: deferred("451 4.3.5 Server configuration error"),
    },
    {
      name: "a table named inside an access table: 451 4.3.5",
      input: { login: "nested", relayRestrictions: relay("permit") },
      want: deferred("451 4.3.5 Server configuration error"),
    },
    {
      name: "an empty value: 451 4.3.5",
      input: { login: "empty", relayRestrictions: relay("permit") },
      want: deferred("451 4.3.5 Server configuration error"),
    },
    {
      name: "warn_if_reject before check_sasl_access: REJECT is only logged",
      input: { login: "rej", relayRestrictions: `warn_if_reject ${relay("permit")}` },
      want: PERMIT,
    },
    {
      name: "warn_if_reject covers a restriction list from the table",
      input: { login: "list", relayRestrictions: `warn_if_reject ${relay("permit")}` },
      want: PERMIT,
    },
    {
      name: "warn_if_reject does not soften an unknown action",
      input: { login: "bogus", relayRestrictions: `warn_if_reject ${relay("permit")}` },
      want: deferred("451 4.3.5 Server configuration error"),
    },
  ]);

  const broken = (): LookupTable => ({ lookup: () => Promise.reject(new Error("D1_ERROR: no such table")) });
  table([
    {
      name: "a table that fails: 451 4.3.5, as Postfix's check_access",
      input: {
        login: "alice",
        relayRestrictions: "check_sasl_access d1:sasl_access, permit",
        openTable: broken,
      },
      want: deferred(`451 4.3.5 ${sasl("alice", "Server configuration error")}`),
    },
    {
      name: "a table that cannot be opened: 451 4.3.5",
      input: {
        login: "alice",
        relayRestrictions: "check_sasl_access d1:sasl_access, permit",
        openTable: (spec) => openTable(spec),
      },
      want: deferred(`451 4.3.5 ${sasl("alice", "Server configuration error")}`),
    },
    {
      name: "a failing table is not softened by warn_if_reject",
      input: {
        login: "alice",
        relayRestrictions: "warn_if_reject check_sasl_access d1:x, permit",
        openTable: broken,
      },
      want: deferred(`451 4.3.5 ${sasl("alice", "Server configuration error")}`),
    },
  ]);

  it("logs WARN and INFO Postfix-style", async () => {
    for (const [login, line] of [
      [
        "warn",
        "warn: RCPT from unknown[203.0.113.5]: odd login; from=<alice@example.com> to=<bob@remote.test>",
      ],
      ["info", "info: RCPT from unknown[203.0.113.5]: hello; from=<alice@example.com> to=<bob@remote.test>"],
    ] as const) {
      const result = await decide({ login, relayRestrictions: relay("permit") });
      expect(result.warnings).toEqual([line]);
    }
  });

  it("says why an unknown action failed", async () => {
    const result = await decide({ login: "bogus", relayRestrictions: relay("permit") });
    expect(result.warnings).toHaveLength(1);
    expect(result.warnings[0]).toMatch(
      /^warning: access table inline:\{.*: unknown smtpd restriction: "FROB"$/s,
    );
  });

  it("says which table failed and why", async () => {
    const result = await decide({
      login: "alice",
      relayRestrictions: "check_sasl_access d1:sasl_access",
      openTable: () => ({ lookup: () => Promise.reject(new Error("D1_ERROR")) }),
    });
    expect(result.warnings).toEqual([
      "warning: check_sasl_access d1:sasl_access: lookup of <alice> failed: D1_ERROR",
    ]);
  });

  it("looks up the login, folded", async () => {
    const asked: string[] = [];
    await outcome({
      login: "Alice@Example.COM",
      relayRestrictions: "check_sasl_access d1:sasl_access",
      openTable: () => ({
        lookup: async (key) => {
          asked.push(key);
          return null;
        },
      }),
    });
    expect(asked).toEqual(["alice@example.com"]);
  });

  it("reports the first HOLD only", async () => {
    const result = await outcome({
      login: "holdtext",
      relayRestrictions: `check_sasl_access ${ACCESS} check_sasl_access inline:{ holdtext = HOLD second }`,
    });
    expect(result.hold).toBe("<holdtext>: SASL login name review me");
  });
});

describe("evaluateRecipient: the order of the lists", () => {
  table([
    {
      name: "a permit in the sender list goes on to the relay list",
      input: { senderRestrictions: "permit", relayRestrictions: "reject_unauth_destination" },
      want: rejected(RELAY_DENIED),
    },
    {
      name: "a reject in the sender list ends everything",
      input: { senderRestrictions: "reject", relayRestrictions: "permit" },
      want: rejected("554 5.7.1 <alice@example.com>: Sender address rejected: Access denied"),
    },
    {
      name: "a permit in the relay list goes on to the recipient list",
      input: { relayRestrictions: "permit", recipientRestrictions: "reject" },
      want: rejected(RCPT_DENIED),
    },
    { name: "the first permit ends its list", input: { relayRestrictions: "permit, reject" }, want: PERMIT },
    {
      name: "a defer in the relay list ends everything",
      input: { relayRestrictions: "defer_unauth_destination", recipientRestrictions: "permit" },
      want: deferred("454 4.7.1 <bob@remote.test>: Relay access denied"),
    },
    {
      name: "every list without an opinion: implicit permit",
      input: {
        login: "alice",
        senderRestrictions: "reject_sender_login_mismatch",
        relayRestrictions: "permit_mynetworks",
        recipientRestrictions: "check_sasl_access static:DUNNO",
      },
      want: PERMIT,
    },
    {
      name: "defer_if_permit from the sender list defers a final permit",
      input: { senderRestrictions: "defer_if_permit", relayRestrictions: "permit" },
      want: deferred("450 4.7.0 <alice@example.com>: Sender address rejected: defer_if_permit requested"),
    },
    {
      name: "defer_if_permit from the sender list does not stop a later reject",
      input: { senderRestrictions: "defer_if_permit", relayRestrictions: "reject_unauth_destination" },
      want: rejected(RELAY_DENIED),
    },
    {
      name: "defer_if_reject ends with the sender stage",
      input: { senderRestrictions: "defer_if_reject", relayRestrictions: "reject" },
      want: rejected(RCPT_DENIED),
    },
    {
      name: "defer_if_reject from the relay list reaches the recipient list",
      input: { relayRestrictions: "defer_if_reject", recipientRestrictions: "reject" },
      want: deferred("450 4.7.0 <bob@remote.test>: Recipient address rejected: defer_if_reject requested"),
    },
    {
      name: "the relay list runs before the recipient list",
      input: { relayRestrictions: "reject_unauth_destination", recipientRestrictions: "defer" },
      want: rejected(RELAY_DENIED),
    },
  ]);
});

describe("evaluateRecipient: Postfix's default relay restrictions", () => {
  const DEFAULT = "permit_mynetworks, permit_sasl_authenticated, reject_unauth_destination";
  table([
    {
      name: "unauthenticated stranger to elsewhere",
      input: { relayRestrictions: DEFAULT },
      want: rejected(RELAY_DENIED),
    },
    {
      name: "authenticated client to elsewhere",
      input: { login: "alice", relayRestrictions: DEFAULT },
      want: PERMIT,
    },
    {
      name: "trusted network to elsewhere",
      input: { client: TRUSTED, relayRestrictions: DEFAULT },
      want: PERMIT,
    },
    {
      name: "stranger to mydestination",
      input: { recipient: "bob@example.com", relayRestrictions: DEFAULT },
      want: PERMIT,
    },
    {
      name: "stranger to relay_domains",
      input: { recipient: "bob@relay.test", relayRestrictions: DEFAULT },
      want: PERMIT,
    },
    {
      name: "with defer_unauth_destination (Postfix's own default)",
      input: { relayRestrictions: "permit_mynetworks, permit_sasl_authenticated, defer_unauth_destination" },
      want: deferred("454 4.7.1 <bob@remote.test>: Relay access denied"),
    },
  ]);
});

describe("evaluateRecipient: failures never permit", () => {
  it("an unexpected error inside a restriction is a 451 4.3.5", async () => {
    const result = await evaluateRecipient({
      senderRestrictions: [],
      relayRestrictions: [{ name: "no_such_thing" as RestrictionName }, { name: "permit" }],
      recipientRestrictions: [],
      client: { address: STRANGER, name: "unknown" },
      sasl: null,
      sender: "alice@example.com",
      recipient: "bob@remote.test",
      mynetworks: parseNetworkList(""),
      localDomains: [],
      relayDomains: [],
      senderLoginMaps: [],
      openTable: (spec) => openTable(spec),
    });
    expect(result.decision).toBe("defer");
    expect(result.reply).toEqual({ code: 451, enhanced: "4.3.5", text: "Server configuration error" });
    expect(result.warnings[0]).toMatch(/^warning: policy evaluation failed: /);
  });
});
