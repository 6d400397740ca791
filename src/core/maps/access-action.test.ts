import { describe, expect, it } from "vitest";
import { type AccessAction, parseAccessAction } from "./access-action.ts";

describe("parseAccessAction", () => {
  const cases: { name: string; input: string; want: AccessAction }[] = [
    // accept
    { name: "OK", input: "OK", want: { kind: "ok" } },
    { name: "ok, lowercase, trailing text ignored", input: "ok whatever", want: { kind: "ok" } },
    { name: "RELAY is OK", input: "RELAY", want: { kind: "ok" } },
    { name: "all-numerical is OK", input: "1699999999", want: { kind: "ok" } },
    { name: "a bare 3-digit code is all-numerical, so OK", input: "550", want: { kind: "ok" } },
    { name: "DUNNO", input: "DUNNO", want: { kind: "dunno" } },
    { name: "Dunno with text", input: "Dunno skip me", want: { kind: "dunno" } },
    // reject / defer
    { name: "REJECT", input: "REJECT", want: { kind: "reject", enhanced: "5.7.1" } },
    {
      name: "reject with text",
      input: "reject  go away ",
      want: { kind: "reject", enhanced: "5.7.1", text: "go away" },
    },
    {
      name: "REJECT with an enhanced code",
      input: "REJECT 5.7.9 policy says no",
      want: { kind: "reject", enhanced: "5.7.9", text: "policy says no" },
    },
    {
      name: "REJECT with only an enhanced code",
      input: "REJECT 5.1.8",
      want: { kind: "reject", enhanced: "5.1.8" },
    },
    {
      name: "not an enhanced code: glued to text",
      input: "REJECT 5.7.1x nope",
      want: { kind: "reject", enhanced: "5.7.1", text: "5.7.1x nope" },
    },
    {
      name: "not an enhanced code: bad class",
      input: "REJECT 3.7.1 nope",
      want: { kind: "reject", enhanced: "5.7.1", text: "3.7.1 nope" },
    },
    {
      name: "not an enhanced code: 4 digits",
      input: "REJECT 5.7.1000 nope",
      want: { kind: "reject", enhanced: "5.7.1", text: "5.7.1000 nope" },
    },
    { name: "DEFER", input: "DEFER", want: { kind: "defer", enhanced: "4.7.1" } },
    {
      name: "defer with text",
      input: "defer try later",
      want: { kind: "defer", enhanced: "4.7.1", text: "try later" },
    },
    {
      name: "DEFER with an enhanced code",
      input: "DEFER 4.3.2 busy",
      want: { kind: "defer", enhanced: "4.3.2", text: "busy" },
    },
    // NNN text
    {
      name: "5NN text",
      input: "550 mailbox says no",
      want: { kind: "code", code: 550, enhanced: "5.7.1", text: "mailbox says no" },
    },
    {
      name: "4NN text",
      input: "421 closing",
      want: { kind: "code", code: 421, enhanced: "4.7.1", text: "closing" },
    },
    {
      name: "NNN with an enhanced code",
      input: "554 5.7.3 quota",
      want: { kind: "code", code: 554, enhanced: "5.7.3", text: "quota" },
    },
    {
      name: "NNN with only an enhanced code",
      input: "451 4.3.0",
      want: { kind: "code", code: 451, enhanced: "4.3.0" },
    },
    // defer_if_*
    {
      name: "DEFER_IF_PERMIT",
      input: "DEFER_IF_PERMIT",
      want: { kind: "defer_if_permit", enhanced: "4.7.1" },
    },
    {
      name: "defer_if_permit with code and text",
      input: "defer_if_permit 4.7.5 later",
      want: { kind: "defer_if_permit", enhanced: "4.7.5", text: "later" },
    },
    {
      name: "DEFER_IF_REJECT",
      input: "DEFER_IF_REJECT",
      want: { kind: "defer_if_reject", enhanced: "4.7.1" },
    },
    {
      name: "defer_if_reject with text",
      input: "Defer_If_Reject maybe",
      want: { kind: "defer_if_reject", enhanced: "4.7.1", text: "maybe" },
    },
    // marks and logs
    { name: "HOLD", input: "HOLD", want: { kind: "hold" } },
    { name: "hold with text", input: "hold review me", want: { kind: "hold", text: "review me" } },
    { name: "DISCARD", input: "DISCARD", want: { kind: "discard" } },
    { name: "discard with text", input: "DISCARD spam trap", want: { kind: "discard", text: "spam trap" } },
    { name: "WARN with text", input: "WARN odd login", want: { kind: "warn", text: "odd login" } },
    { name: "INFO", input: "INFO", want: { kind: "info" } },
    // restriction lists
    { name: "one restriction", input: "permit", want: { kind: "restrictions", names: ["permit"] } },
    {
      name: "restriction list with commas and blanks",
      input: "permit_mynetworks, reject_unauth_destination  permit",
      want: { kind: "restrictions", names: ["permit_mynetworks", "reject_unauth_destination", "permit"] },
    },
    {
      name: "any word is a restriction name (checked by the caller)",
      input: "FROB",
      want: { kind: "restrictions", names: ["FROB"] },
    },
    // unknown
    { name: "empty", input: "   ", want: { kind: "unknown", value: "   " } },
    {
      name: "a lookup table inside an access map",
      input: "check_sasl_access inline:{a=b}",
      want: { kind: "unknown", value: "check_sasl_access inline:{a=b}" },
    },
    {
      name: "FILTER is not supported",
      input: "FILTER smtp:[x]",
      want: { kind: "unknown", value: "FILTER smtp:[x]" },
    },
    {
      name: "REDIRECT is not supported",
      input: "REDIRECT a@b",
      want: { kind: "unknown", value: "REDIRECT a@b" },
    },
    { name: "BCC is not supported", input: "bcc a@b", want: { kind: "unknown", value: "bcc a@b" } },
    {
      name: "PREPEND is not supported",
      input: "PREPEND X-A: b",
      want: { kind: "unknown", value: "PREPEND X-A: b" },
    },
    { name: "punctuation", input: "REJECT!", want: { kind: "unknown", value: "REJECT!" } },
    {
      name: "a 2NN code with text",
      input: "250 fine",
      want: { kind: "restrictions", names: ["250", "fine"] },
    },
  ];
  for (const { name, input, want } of cases) {
    it(name, () => expect(parseAccessAction(input)).toEqual(want));
  }
});
