import { describe, expect, it } from "vitest";
import { ConfigError, Settings } from "../config/settings.ts";
import { relayAuthPolicy, relaySecurity } from "./relay-security.ts";

describe("relaySecurity", () => {
  const levels = [
    { set: {}, tlsLevel: "may", wrapperMode: false },
    { set: { smtp_tls_security_level: "" }, tlsLevel: "none", wrapperMode: false },
    { set: { smtp_tls_security_level: "VERIFY" }, tlsLevel: "verify", wrapperMode: false },
    { set: { smtp_tls_security_level: "secure" }, tlsLevel: "secure", wrapperMode: false },
    { set: { smtp_tls_wrappermode: "yes" }, tlsLevel: "encrypt", wrapperMode: true },
    {
      set: { smtp_tls_wrappermode: "yes", smtp_tls_security_level: "none" },
      tlsLevel: "encrypt",
      wrapperMode: true,
    },
    {
      set: { smtp_tls_wrappermode: "yes", smtp_tls_security_level: "verify" },
      tlsLevel: "verify",
      wrapperMode: true,
    },
  ] as const;
  for (const { set, tlsLevel, wrapperMode } of levels) {
    it(`${JSON.stringify(set)} -> ${tlsLevel}${wrapperMode ? " (wrapper)" : ""}`, () => {
      expect(relaySecurity(new Settings(set))).toMatchObject({ tlsLevel, wrapperMode });
    });
  }

  it("an lmtp: next hop reads lmtp_tls_security_level and has no wrapper mode; a UNIX socket no TLS", () => {
    const settings = new Settings({
      smtp_tls_security_level: "encrypt",
      smtp_tls_wrappermode: "yes",
      lmtp_tls_security_level: "verify",
    });
    expect(relaySecurity(settings, { lmtp: true })).toMatchObject({ tlsLevel: "verify", wrapperMode: false });
    expect(relaySecurity(settings, { lmtp: true, unix: true })).toMatchObject({ tlsLevel: "none" });
    expect(() => relaySecurity(new Settings({ lmtp_tls_security_level: "dane" }), { lmtp: true })).toThrow(
      /lmtp_tls_security_level = dane/,
    );
  });

  it("reads the smtp_sasl_* policy, with the verified options defaulting to the TLS ones", () => {
    const got = relaySecurity(
      new Settings({
        smtp_sasl_tls_security_options: "noanonymous, noactive",
        smtp_send_dummy_mail_auth: "yes",
      }),
    );
    expect(got.sasl).toEqual({
      securityOptions: "noplaintext, noanonymous",
      tlsSecurityOptions: "noanonymous, noactive",
      tlsVerifiedSecurityOptions: "noanonymous, noactive",
      mechanismFilter: "",
    });
    expect(got).toMatchObject({ authSoftBounce: true, dummyMailAuth: true });
    expect(got.caFile).toBeUndefined();
  });

  it("refuses what would weaken or break the policy, as a ConfigError", () => {
    const bad = [
      { smtp_tls_security_level: "dane" },
      { smtp_sasl_security_options: "noplaintxt" },
      { smtp_sasl_tls_verified_security_options: "anonymous" },
      { smtp_sasl_mechanism_filter: "hash:/etc/postfix/mechs" },
    ];
    for (const set of bad) expect(() => relaySecurity(new Settings(set))).toThrow(ConfigError);
  });

  it("an lmtp: next hop reads the lmtp_* twins of the SASL policy, which follow smtp_* until set", () => {
    const shared = new Settings({
      smtp_sasl_security_options: "noanonymous",
      smtp_sasl_mechanism_filter: "!cram-md5, static:all",
      smtp_tls_CAfile: "/etc/ssl/smarthost-ca.pem",
      smtp_send_dummy_mail_auth: "yes",
    });
    expect(relaySecurity(shared, { lmtp: true })).toMatchObject({
      sasl: { securityOptions: "noanonymous", mechanismFilter: "!cram-md5, static:all" },
      caFile: "/etc/ssl/smarthost-ca.pem",
      dummyMailAuth: true,
    });
    const apart = new Settings({
      smtp_sasl_security_options: "noanonymous",
      smtp_sasl_auth_soft_bounce: "yes",
      smtp_sasl_auth_cache_name: "d1:sasl_auth_cache",
      lmtp_sasl_security_options: "noplaintext, noanonymous",
      lmtp_sasl_tls_verified_security_options: "noanonymous",
      lmtp_sasl_mechanism_filter: "scram-sha-256",
      lmtp_tls_CAfile: "/etc/ssl/lmtp-ca.pem",
      lmtp_sasl_auth_soft_bounce: "no",
      lmtp_sasl_auth_cache_name: "",
    });
    const lmtp = relaySecurity(apart, { lmtp: true });
    expect(lmtp).toMatchObject({
      sasl: {
        securityOptions: "noplaintext, noanonymous",
        tlsVerifiedSecurityOptions: "noanonymous",
        mechanismFilter: "scram-sha-256",
      },
      caFile: "/etc/ssl/lmtp-ca.pem",
      authSoftBounce: false,
    });
    expect(relaySecurity(apart)).toMatchObject({
      sasl: { securityOptions: "noanonymous" },
      authSoftBounce: true,
    });
    expect(relayAuthPolicy(apart, { lmtp: true })).toMatchObject({ cache: false, softBounce: false });
    expect(relayAuthPolicy(apart)).toMatchObject({ cache: true, softBounce: true });
    expect(() =>
      relaySecurity(new Settings({ lmtp_sasl_security_options: "nosuchoption" }), { lmtp: true }),
    ).toThrow(/lmtp_sasl_security_options/);
  });

  it("relayAuthPolicy: the cache is on when named", () => {
    expect(relayAuthPolicy(new Settings({}))).toEqual({
      cache: false,
      cacheTtlMs: 90 * 86_400_000,
      softBounce: true,
    });
    expect(relayAuthPolicy(new Settings({ smtp_sasl_auth_cache_name: "d1:sasl_auth_cache" })).cache).toBe(
      true,
    );
  });
});
