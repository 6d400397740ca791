import { describe, expect, it } from "vitest";
import { isMechanismAllowed, type OfferInput, offeredMechanisms } from "./offered-mechanisms.ts";

// Postfix's defaults (postfix-semantics.md).
const POSTFIX: OfferInput = {
  tls: false,
  securityOptions: "noanonymous",
  tlsSecurityOptions: "noanonymous",
  mechanismFilter: "!external, static:rest",
  mechList: "",
  channelBinding: false,
  externalIdentity: false,
};

const offered = (input: Partial<OfferInput>) =>
  offeredMechanisms({ ...POSTFIX, ...input }).map((spec) => spec.name);

describe("offeredMechanisms", () => {
  const cases: { name: string; input: Partial<OfferInput>; want: string[] }[] = [
    {
      name: "Postfix defaults: no ANONYMOUS, no EXTERNAL, no -PLUS without channel binding",
      input: {},
      want: [
        "SCRAM-SHA-256",
        "SCRAM-SHA-1",
        "DIGEST-MD5",
        "CRAM-MD5",
        "OAUTHBEARER",
        "XOAUTH2",
        "PLAIN",
        "LOGIN",
      ],
    },
    {
      name: "noplaintext before TLS removes PLAIN and LOGIN",
      input: { securityOptions: "noanonymous, noplaintext" },
      want: ["SCRAM-SHA-256", "SCRAM-SHA-1", "DIGEST-MD5", "CRAM-MD5"],
    },
    {
      name: "the TLS policy applies once TLS is up",
      input: { tls: true, securityOptions: "noanonymous, noplaintext" },
      want: [
        "SCRAM-SHA-256",
        "SCRAM-SHA-1",
        "DIGEST-MD5",
        "CRAM-MD5",
        "OAUTHBEARER",
        "XOAUTH2",
        "PLAIN",
        "LOGIN",
      ],
    },
    {
      name: "the TLS policy does not apply before TLS",
      input: { tlsSecurityOptions: "mutual_auth" },
      want: [
        "SCRAM-SHA-256",
        "SCRAM-SHA-1",
        "DIGEST-MD5",
        "CRAM-MD5",
        "OAUTHBEARER",
        "XOAUTH2",
        "PLAIN",
        "LOGIN",
      ],
    },
    {
      name: "mutual_auth keeps SCRAM and DIGEST-MD5",
      input: { tls: true, tlsSecurityOptions: "mutual_auth" },
      want: ["SCRAM-SHA-256", "SCRAM-SHA-1", "DIGEST-MD5"],
    },
    {
      name: "nodictionary leaves the plaintext ones",
      input: { securityOptions: "noanonymous nodictionary" },
      want: ["OAUTHBEARER", "XOAUTH2", "PLAIN", "LOGIN"],
    },
    {
      name: "no options offers ANONYMOUS",
      input: { securityOptions: "" },
      want: [
        "SCRAM-SHA-256",
        "SCRAM-SHA-1",
        "DIGEST-MD5",
        "CRAM-MD5",
        "OAUTHBEARER",
        "XOAUTH2",
        "PLAIN",
        "LOGIN",
        "ANONYMOUS",
      ],
    },
    {
      name: "!cram-md5, static:rest",
      input: { mechanismFilter: "!cram-md5, static:rest" },
      want: ["SCRAM-SHA-256", "SCRAM-SHA-1", "DIGEST-MD5", "OAUTHBEARER", "XOAUTH2", "PLAIN", "LOGIN"],
    },
    {
      name: "filter login, plain keeps the strongest-first order",
      input: { mechanismFilter: "login, plain" },
      want: ["PLAIN", "LOGIN"],
    },
    { name: "mech_list PLAIN LOGIN", input: { mechList: "PLAIN LOGIN" }, want: ["PLAIN", "LOGIN"] },
    {
      name: "mech_list and filter both apply",
      input: { mechList: "PLAIN LOGIN CRAM-MD5", mechanismFilter: "!login, static:rest" },
      want: ["CRAM-MD5", "PLAIN"],
    },
    {
      name: "EXTERNAL needs an external identity",
      input: { mechanismFilter: "" },
      want: [
        "SCRAM-SHA-256",
        "SCRAM-SHA-1",
        "DIGEST-MD5",
        "CRAM-MD5",
        "OAUTHBEARER",
        "XOAUTH2",
        "PLAIN",
        "LOGIN",
      ],
    },
    {
      name: "EXTERNAL with a client certificate",
      input: { mechanismFilter: "", externalIdentity: true },
      want: [
        "SCRAM-SHA-256",
        "SCRAM-SHA-1",
        "DIGEST-MD5",
        "CRAM-MD5",
        "OAUTHBEARER",
        "XOAUTH2",
        "PLAIN",
        "LOGIN",
        "EXTERNAL",
      ],
    },
    {
      name: "Postfix's filter hides EXTERNAL even with a certificate",
      input: { externalIdentity: true },
      want: [
        "SCRAM-SHA-256",
        "SCRAM-SHA-1",
        "DIGEST-MD5",
        "CRAM-MD5",
        "OAUTHBEARER",
        "XOAUTH2",
        "PLAIN",
        "LOGIN",
      ],
    },
    {
      name: "enabled limits the candidates",
      input: { enabled: ["plain", "CRAM-MD5", "NTLM"] },
      want: ["CRAM-MD5", "PLAIN"],
    },
    { name: "everything removed", input: { securityOptions: "forward_secrecy" }, want: [] },
    {
      name: "-PLUS only with channel binding",
      input: { tls: true, channelBinding: true, tlsSecurityOptions: "noanonymous, noplaintext" },
      want: ["SCRAM-SHA-256-PLUS", "SCRAM-SHA-256", "SCRAM-SHA-1", "DIGEST-MD5", "CRAM-MD5"],
    },
  ];
  for (const { name, input, want } of cases) {
    it(name, () => expect(offered(input)).toEqual(want));
  }

  it("throws ERR_CONFIG for a bad policy, naming the parameter in force", () => {
    expect(() => offered({ tls: true, tlsSecurityOptions: "noplain" })).toThrow(
      expect.objectContaining({
        code: "ERR_CONFIG",
        message: expect.stringContaining("smtpd_sasl_tls_security_options"),
      }),
    );
    expect(() => offered({ mechanismFilter: "hash:/etc/postfix/mechs" })).toThrow(
      expect.objectContaining({ code: "ERR_CONFIG" }),
    );
    expect(() => offered({ mechList: "PLAIN,LOGIN" })).toThrow(
      expect.objectContaining({ code: "ERR_CONFIG" }),
    );
  });
});

describe("isMechanismAllowed", () => {
  const cases: { name: string; mechanism: string; input: Partial<OfferInput>; want: boolean }[] = [
    { name: "offered", mechanism: "PLAIN", input: {}, want: true },
    { name: "case-insensitive", mechanism: "cram-md5", input: {}, want: true },
    { name: "removed by noanonymous", mechanism: "ANONYMOUS", input: {}, want: false },
    {
      name: "removed by noplaintext before TLS",
      mechanism: "LOGIN",
      input: { securityOptions: "noplaintext" },
      want: false,
    },
    {
      name: "allowed after TLS",
      mechanism: "LOGIN",
      input: { tls: true, securityOptions: "noplaintext" },
      want: true,
    },
    {
      name: "removed by the filter",
      mechanism: "CRAM-MD5",
      input: { mechanismFilter: "!cram-md5, static:rest" },
      want: false,
    },
    { name: "removed by mech_list", mechanism: "DIGEST-MD5", input: { mechList: "PLAIN" }, want: false },
    {
      name: "EXTERNAL without a certificate",
      mechanism: "EXTERNAL",
      input: { mechanismFilter: "" },
      want: false,
    },
    {
      name: "EXTERNAL with a certificate",
      mechanism: "EXTERNAL",
      input: { mechanismFilter: "", externalIdentity: true },
      want: true,
    },
    { name: "not implemented", mechanism: "NTLM", input: { mechanismFilter: "" }, want: false },
    { name: "garbage", mechanism: "PLAIN LOGIN", input: {}, want: false },
  ];
  for (const { name, mechanism, input, want } of cases) {
    it(name, () => expect(isMechanismAllowed(mechanism, { ...POSTFIX, ...input })).toBe(want));
  }
});
