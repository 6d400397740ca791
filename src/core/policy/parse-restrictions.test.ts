import { describe, expect, it } from "vitest";
import { parseRestrictions, type Restriction } from "./parse-restrictions.ts";
import { RESTRICTIONS } from "./restrictions.ts";

describe("parseRestrictions", () => {
  const cases: { name: string; input: string; want: Restriction[] }[] = [
    { name: "empty", input: "", want: [] },
    {
      name: "Postfix's default relay restrictions",
      input: "permit_mynetworks, permit_sasl_authenticated, defer_unauth_destination",
      want: [
        { name: "permit_mynetworks" },
        { name: "permit_sasl_authenticated" },
        { name: "defer_unauth_destination" },
      ],
    },
    {
      name: "names are case-insensitive, separators mixed",
      input: "  Permit_MyNetworks\n\tREJECT_UNAUTH_DESTINATION,,permit ",
      want: [{ name: "permit_mynetworks" }, { name: "reject_unauth_destination" }, { name: "permit" }],
    },
    {
      name: "check_sasl_access takes the next item as its table",
      input: "check_sasl_access d1:sasl_access, permit",
      want: [{ name: "check_sasl_access", table: "d1:sasl_access" }, { name: "permit" }],
    },
    {
      name: "an inline table with spaces and commas stays one item",
      input: "check_sasl_access inline:{ { alice = REJECT no, thanks } }, reject",
      want: [
        { name: "check_sasl_access", table: "inline:{ { alice = REJECT no, thanks } }" },
        { name: "reject" },
      ],
    },
    {
      name: "every supported name",
      input: Object.keys(RESTRICTIONS)
        .map((name) => (name === "check_sasl_access" ? `${name} static:OK` : name))
        .join(" "),
      want: Object.keys(RESTRICTIONS).map((name) =>
        name === "check_sasl_access"
          ? { name: "check_sasl_access", table: "static:OK" }
          : ({ name } as Restriction),
      ),
    },
  ];
  for (const { name, input, want } of cases) {
    it(name, () => expect(parseRestrictions(input)).toEqual(want));
  }

  it("supports exactly the documented names", () => {
    expect(Object.keys(RESTRICTIONS).sort()).toEqual(
      [
        "check_sasl_access",
        "defer",
        "defer_if_permit",
        "defer_if_reject",
        "defer_unauth_destination",
        "permit",
        "permit_auth_destination",
        "permit_mynetworks",
        "permit_sasl_authenticated",
        "reject",
        "reject_authenticated_sender_login_mismatch",
        "reject_known_sender_login_mismatch",
        "reject_sender_login_mismatch",
        "reject_unauth_destination",
        "reject_unauthenticated_sender_login_mismatch",
        "warn_if_reject",
      ].sort(),
    );
  });

  const errors = [
    {
      name: "unknown name, reported as written",
      input: "permit_mynetworks, Permit_Everyone",
      want: /unknown smtpd restriction: "Permit_Everyone"/,
    },
    {
      name: "a Postfix restriction Postern lacks",
      input: "reject_rbl_client zen.spamhaus.org",
      want: /unknown smtpd restriction: "reject_rbl_client"/,
    },
    {
      name: "a bare table (Postfix shorthand) is not supported",
      input: "hash:/etc/postfix/access",
      want: /unknown smtpd restriction/,
    },
    {
      name: "check_sasl_access at the end",
      input: "check_sasl_access",
      want: /check_sasl_access: bad argument "": need maptype:mapname/,
    },
    {
      name: "check_sasl_access without a table",
      input: "check_sasl_access permit",
      want: /bad argument "permit": need maptype:mapname/,
    },
    {
      name: "prototype keys are not restrictions",
      input: "constructor",
      want: /unknown smtpd restriction: "constructor"/,
    },
    { name: "unbalanced brace", input: "check_sasl_access inline:{ a=OK", want: /missing "}"/ },
  ];
  for (const { name, input, want } of errors) {
    it(`rejects: ${name}`, () => {
      expect(() => parseRestrictions(input)).toThrow(want);
      expect(() => parseRestrictions(input)).toThrow(expect.objectContaining({ code: "ERR_CONFIG" }));
    });
  }
});
