import { describe, expect, it } from "vitest";
import { parseMechanismFilter, parseMechList } from "./mechanism-filter.ts";

const ALL = ["DIGEST-MD5", "CRAM-MD5", "PLAIN", "LOGIN", "EXTERNAL", "ANONYMOUS"];

describe("parseMechanismFilter (smtpd_sasl_mechanism_filter)", () => {
  const cases = [
    { filter: "", want: ALL },
    { filter: "!external, static:rest", want: ["DIGEST-MD5", "CRAM-MD5", "PLAIN", "LOGIN", "ANONYMOUS"] },
    { filter: "!cram-md5, static:rest", want: ["DIGEST-MD5", "PLAIN", "LOGIN", "EXTERNAL", "ANONYMOUS"] },
    {
      filter: "!gssapi, !login, static:all",
      want: ["DIGEST-MD5", "CRAM-MD5", "PLAIN", "EXTERNAL", "ANONYMOUS"],
    },
    { filter: "login, plain", want: ["PLAIN", "LOGIN"] },
    { filter: "LOGIN PLAIN", want: ["PLAIN", "LOGIN"] },
    { filter: "plain, !plain", want: ["PLAIN"] }, // the first match decides
    { filter: "!plain, plain", want: [] },
    { filter: "!!plain", want: ["PLAIN"] },
    { filter: "static:rest", want: ALL },
    { filter: "!static:all", want: [] },
    { filter: "ntlm", want: [] },
  ];
  for (const { filter, want } of cases) {
    it(JSON.stringify(filter), () => expect(ALL.filter(parseMechanismFilter(filter))).toEqual(want));
  }

  it("compares case-insensitively", () => {
    expect(parseMechanismFilter("Cram-Md5")("cram-md5")).toBe(true);
  });

  const bad = [
    "/etc/postfix/smtpd_mechs",
    "hash:/etc/postfix/mechs",
    "!",
    "plain;login",
    "a-very-long-mechanism-name-indeed",
  ];
  for (const filter of bad) {
    it(`refuses ${JSON.stringify(filter)} with ERR_CONFIG`, () => {
      expect(() => parseMechanismFilter(filter)).toThrow(expect.objectContaining({ code: "ERR_CONFIG" }));
    });
  }
});

describe("parseMechList (Cyrus mech_list)", () => {
  const cases = [
    { list: "", want: ALL },
    { list: "PLAIN LOGIN", want: ["PLAIN", "LOGIN"] },
    { list: "plain login cram-md5 digest-md5 ntlm", want: ["DIGEST-MD5", "CRAM-MD5", "PLAIN", "LOGIN"] },
    { list: "  CRAM-MD5\n\tPLAIN ", want: ["CRAM-MD5", "PLAIN"] },
    { list: "GSSAPI", want: [] },
  ];
  for (const { list, want } of cases) {
    it(JSON.stringify(list), () => expect(ALL.filter(parseMechList(list))).toEqual(want));
  }

  it("refuses a comma-separated list rather than silently allowing nothing", () => {
    expect(() => parseMechList("PLAIN,LOGIN")).toThrow(expect.objectContaining({ code: "ERR_CONFIG" }));
  });
});
