import { describe, expect, it } from "vitest";
import { ConfigError } from "../../config/settings.ts";
import {
  type ClientSaslPolicy,
  type CredentialKind,
  chooseClientMechanism,
  DEFAULT_CLIENT_SASL_POLICY,
  NO_WORTHY_MECHS,
  type TransportSecurity,
} from "./client-sasl-policy.ts";

const ALL = [
  "PLAIN",
  "LOGIN",
  "CRAM-MD5",
  "DIGEST-MD5",
  "SCRAM-SHA-1",
  "SCRAM-SHA-256",
  "XOAUTH2",
  "OAUTHBEARER",
];

interface Case {
  name: string;
  offered: string[];
  transport: TransportSecurity;
  credential?: CredentialKind;
  policy?: Partial<ClientSaslPolicy>;
  want: string | null;
}

const cases: Case[] = [
  { name: "the strongest of all: SCRAM-SHA-256", offered: ALL, transport: "tls", want: "SCRAM-SHA-256" },
  { name: "without TLS too (not plaintext)", offered: ALL, transport: "none", want: "SCRAM-SHA-256" },
  {
    name: "SCRAM-SHA-1 over CRAM-MD5",
    offered: ["CRAM-MD5", "SCRAM-SHA-1"],
    transport: "tls",
    want: "SCRAM-SHA-1",
  },
  {
    name: "CRAM-MD5 over PLAIN",
    offered: ["PLAIN", "LOGIN", "CRAM-MD5"],
    transport: "tls",
    want: "CRAM-MD5",
  },
  { name: "PLAIN over LOGIN", offered: ["LOGIN", "PLAIN"], transport: "tls", want: "PLAIN" },
  { name: "names are case-insensitive", offered: ["login", "plain"], transport: "tls", want: "PLAIN" },
  { name: "default: no PLAIN/LOGIN without TLS", offered: ["PLAIN", "LOGIN"], transport: "none", want: null },
  {
    name: "default: CRAM-MD5 without TLS",
    offered: ["PLAIN", "CRAM-MD5"],
    transport: "none",
    want: "CRAM-MD5",
  },
  {
    name: "smtp_sasl_security_options = noanonymous allows PLAIN in the clear",
    offered: ["PLAIN"],
    transport: "none",
    policy: { securityOptions: "noanonymous" },
    want: "PLAIN",
  },
  {
    name: "tls options: noplaintext refuses PLAIN inside TLS",
    offered: ["PLAIN", "LOGIN"],
    transport: "tls",
    policy: { tlsSecurityOptions: "noplaintext" },
    want: null,
  },
  {
    name: "tls options: nodictionary leaves PLAIN only",
    offered: ["PLAIN", "CRAM-MD5", "SCRAM-SHA-256"],
    transport: "tls",
    policy: { tlsSecurityOptions: "nodictionary" },
    want: "PLAIN",
  },
  {
    name: "tls options: noactive drops CRAM-MD5",
    offered: ["CRAM-MD5", "LOGIN"],
    transport: "tls",
    policy: { tlsSecurityOptions: "noactive" },
    want: "LOGIN",
  },
  {
    name: "tls options: mutual_auth keeps SCRAM",
    offered: ["PLAIN", "SCRAM-SHA-1"],
    transport: "tls",
    policy: { tlsSecurityOptions: "mutual_auth" },
    want: "SCRAM-SHA-1",
  },
  {
    name: "verified options apply to verified TLS, not to plain TLS",
    offered: ["PLAIN"],
    transport: "verified",
    policy: { tlsSecurityOptions: "noplaintext", tlsVerifiedSecurityOptions: "noanonymous" },
    want: "PLAIN",
  },
  {
    name: "verified options can refuse what TLS allows",
    offered: ["PLAIN"],
    transport: "verified",
    policy: { tlsSecurityOptions: "noanonymous", tlsVerifiedSecurityOptions: "noplaintext" },
    want: null,
  },
  {
    name: "filter: plain, login hides CRAM-MD5 and SCRAM",
    offered: ALL,
    transport: "tls",
    policy: { mechanismFilter: "plain, login" },
    want: "PLAIN",
  },
  {
    name: "filter: !scram-sha-256, !scram-sha-1, static:all",
    offered: ALL,
    transport: "tls",
    policy: { mechanismFilter: "!scram-sha-256 !scram-sha-1 static:all" },
    want: "DIGEST-MD5",
  },
  {
    name: "filter: static:rest after exclusions",
    offered: ["CRAM-MD5", "LOGIN"],
    transport: "tls",
    policy: { mechanismFilter: "!cram-md5, static:rest" },
    want: "LOGIN",
  },
  {
    name: "filter matching nothing offered: no worthy mechs",
    offered: ["PLAIN", "LOGIN"],
    transport: "tls",
    policy: { mechanismFilter: "cram-md5" },
    want: null,
  },
  { name: "unknown mechanisms only", offered: ["GSSAPI", "NTLM"], transport: "tls", want: null },
  {
    name: "never -PLUS, EXTERNAL or ANONYMOUS",
    offered: ["SCRAM-SHA-256-PLUS", "EXTERNAL", "ANONYMOUS"],
    transport: "tls",
    want: null,
  },
  {
    name: "a token: OAUTHBEARER over XOAUTH2",
    offered: ALL,
    transport: "tls",
    credential: "token",
    want: "OAUTHBEARER",
  },
  {
    name: "a token: XOAUTH2 when alone",
    offered: ["PLAIN", "XOAUTH2"],
    transport: "tls",
    credential: "token",
    want: "XOAUTH2",
  },
  {
    name: "a token: never without TLS",
    offered: ["XOAUTH2", "OAUTHBEARER"],
    transport: "none",
    credential: "token",
    want: null,
  },
  {
    name: "a token cannot run PLAIN",
    offered: ["PLAIN", "LOGIN"],
    transport: "tls",
    credential: "token",
    want: null,
  },
  { name: "a password cannot run XOAUTH2", offered: ["XOAUTH2"], transport: "tls", want: null },
];

describe("chooseClientMechanism", () => {
  for (const c of cases) {
    it(c.name, () => {
      const policy = { ...DEFAULT_CLIENT_SASL_POLICY, ...c.policy };
      const choice = chooseClientMechanism(c.offered, c.transport, c.credential ?? "password", policy);
      if (c.want === null) expect(choice).toEqual({ ok: false, reason: NO_WORTHY_MECHS });
      else expect(choice.ok && choice.mechanism.name).toBe(c.want);
    });
  }

  it("a typo in the options or the filter is a configuration error", () => {
    const bad = [
      { ...DEFAULT_CLIENT_SASL_POLICY, tlsSecurityOptions: "noplaintxt" },
      { ...DEFAULT_CLIENT_SASL_POLICY, mechanismFilter: "hash:/etc/postfix/mechs" },
    ];
    for (const policy of bad) {
      expect(() => chooseClientMechanism(["PLAIN"], "tls", "password", policy)).toThrow(ConfigError);
    }
  });
});
