// Attacks on the policy layer: open-relay tricks, sender spoofing, reply injection through
// client-supplied names, and failures that must never turn into a permit.
import { describe, expect, it } from "vitest";
import type { LookupTable } from "../maps/lookup-table.ts";
import { type Outcome, outcome, type Request, TRUSTED } from "./evaluate-recipient.fixture.ts";

// Postern's defaults (src/core/config/parameters.ts), with an inline table for sasl_access.
const POSTERN: Request = {
  senderRestrictions: "reject_sender_login_mismatch",
  relayRestrictions: "permit_mynetworks, permit_sasl_authenticated, reject_unauth_destination",
  recipientRestrictions: "check_sasl_access inline:{ blocked=REJECT }",
};
const relayDenied = (rcpt: string): Outcome => ({
  decision: "reject",
  reply: `554 5.7.1 <${rcpt}>: Relay access denied`,
});

type Case = { name: string; input: Request; want: Outcome };
function table(cases: Case[]): void {
  for (const { name, input, want } of cases) {
    it(name, async () => expect(await outcome({ ...POSTERN, ...input })).toEqual(want));
  }
}

describe("open relay attempts by an unauthenticated stranger", () => {
  const sender = "stranger@remote.test";
  table([
    { name: "plain relay", input: { sender }, want: relayDenied("bob@remote.test") },
    {
      name: "quoted @ routing through a local domain",
      input: { sender, recipient: '"victim@elsewhere.test"@example.com' },
      want: relayDenied('"victim@elsewhere.test"@example.com'),
    },
    {
      name: "unquoted double @",
      input: { sender, recipient: "victim@elsewhere.test@example.com" },
      want: relayDenied("victim@elsewhere.test@example.com"),
    },
    {
      name: "percent hack",
      input: { sender, recipient: "victim%elsewhere.test@example.com" },
      want: relayDenied("victim%elsewhere.test@example.com"),
    },
    {
      name: "bang path",
      input: { sender, recipient: "elsewhere.test!victim@example.com" },
      want: relayDenied("elsewhere.test!victim@example.com"),
    },
    {
      name: "local domain as a prefix",
      input: { sender, recipient: "v@example.com.evil.test" },
      want: relayDenied("v@example.com.evil.test"),
    },
    {
      name: "local domain as a suffix of a word",
      input: { sender, recipient: "v@evilexample.com" },
      want: relayDenied("v@evilexample.com"),
    },
    {
      name: "relay domain as a suffix of a word",
      input: { sender, recipient: "v@evilrelay.test" },
      want: relayDenied("v@evilrelay.test"),
    },
    {
      name: "client address with a trailing list",
      input: { sender, client: "192.168.1.10, 8.8.8.8" },
      want: relayDenied("bob@remote.test"),
    },
    {
      name: "client address in short form",
      input: { sender, client: "192.168.1" },
      want: relayDenied("bob@remote.test"),
    },
    {
      name: "client address with trailing text",
      input: { sender, client: "192.168.1.10.evil.test" },
      want: relayDenied("bob@remote.test"),
    },
    {
      name: "SASL state with an empty login is not authentication",
      input: { sender, login: "" },
      want: relayDenied("bob@remote.test"),
    },
    {
      name: "a local recipient is fine",
      input: { sender, recipient: "bob@example.com" },
      want: { decision: "permit" },
    },
    { name: "a trusted network may relay", input: { sender, client: TRUSTED }, want: { decision: "permit" } },
  ]);
});

describe("sender spoofing", () => {
  const notLoggedIn = (sender: string): Outcome => ({
    decision: "reject",
    reply: `553 5.7.1 <${sender}>: Sender address rejected: not logged in`,
  });
  const notOwned = (sender: string, login: string): Outcome => ({
    decision: "reject",
    reply: `553 5.7.1 <${sender}>: Sender address rejected: not owned by user ${login}`,
  });
  table([
    {
      name: "a stranger using a protected sender",
      input: { sender: "alice@example.com", client: TRUSTED },
      want: notLoggedIn("alice@example.com"),
    },
    {
      name: "... in capitals",
      input: { sender: "ALICE@EXAMPLE.COM", client: TRUSTED },
      want: notLoggedIn("ALICE@EXAMPLE.COM"),
    },
    {
      name: "... quoted",
      input: { sender: '"alice"@example.com', client: TRUSTED },
      want: notLoggedIn('"alice"@example.com'),
    },
    {
      name: "... with the root dot",
      input: { sender: "alice@example.com.", client: TRUSTED },
      want: notLoggedIn("alice@example.com."),
    },
    {
      name: "a login using someone else's address",
      input: { login: "carol", sender: "alice@example.com" },
      want: notOwned("alice@example.com", "carol"),
    },
    {
      name: "a login using an address nobody owns",
      input: { login: "carol", sender: "ceo@remote.test" },
      want: notOwned("ceo@remote.test", "carol"),
    },
    {
      name: "a login that only resembles the owner",
      input: { login: "alice ", sender: "alice@example.com" },
      want: notOwned("alice@example.com", "alice "),
    },
    {
      name: "the owner",
      input: { login: "alice", sender: "alice@example.com" },
      want: { decision: "permit" },
    },
    {
      name: "the null sender (bounces) is nobody's",
      input: { login: "carol", sender: "" },
      want: { decision: "permit" },
    },
    {
      name: "a login blocked in sasl_access, whatever sender it uses",
      input: { login: "blocked", sender: "" },
      want: { decision: "reject", reply: "554 5.7.1 <blocked>: SASL login name rejected: Access denied" },
    },
  ]);
});

describe("reply injection through client-supplied names", () => {
  const cases = [
    {
      name: "a SASL login with CRLF",
      input: { login: "x\r\n250 2.0.0 Ok", recipientRestrictions: "check_sasl_access static:REJECT" },
    },
    { name: "a recipient with CRLF", input: { recipient: "a@b\r\n250 Ok" } },
    { name: "a sender with CRLF", input: { login: "carol", sender: "a@b\r\n250 Ok" } },
    {
      name: "a sender with a bare CR",
      input: { login: null, sender: "alice@example.com\rX", senderRestrictions: "reject" },
    },
  ];
  for (const { name, input } of cases) {
    it(name, async () => {
      const result = await outcome({ ...POSTERN, ...input });
      expect(result.decision).toBe("reject");
      expect(result.reply).toMatch(/^5\d\d 5\.\d+\.\d+ [\x20-\x7e]+$/);
    });
  }
});

describe("failures never permit", () => {
  const failing: LookupTable = { lookup: () => Promise.reject(new Error("unavailable")) };
  table([
    {
      name: "a broken sasl_access table in front of a permit",
      input: {
        login: "alice",
        relayRestrictions: "check_sasl_access d1:sasl_access, permit",
        openTable: () => failing,
      },
      want: {
        decision: "defer",
        reply: "451 4.3.5 <alice>: SASL login name rejected: Server configuration error",
      },
    },
    {
      name: "a broken sender login map for an authenticated client",
      input: { login: "alice", senderLoginMaps: [failing] },
      want: { decision: "defer", reply: "451 4.3.5 Server configuration error" },
    },
    {
      name: "a broken sender login map behind warn_if_reject",
      input: {
        login: null,
        senderLoginMaps: [failing],
        senderRestrictions: "warn_if_reject reject_sender_login_mismatch",
        client: TRUSTED,
      },
      want: { decision: "defer", reply: "451 4.3.5 Server configuration error" },
    },
    {
      name: "an access table value that names a table",
      input: {
        login: "alice",
        relayRestrictions: "check_sasl_access static:{ check_sasl_access static:OK }, reject",
      },
      want: { decision: "defer", reply: "451 4.3.5 Server configuration error" },
    },
    {
      name: "an access table value that is not a restriction",
      input: { login: "alice", relayRestrictions: "check_sasl_access static:{ permit_everything }, reject" },
      want: { decision: "defer", reply: "451 4.3.5 Server configuration error" },
    },
  ]);
});
