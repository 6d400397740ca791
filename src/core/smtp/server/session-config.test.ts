import { describe, expect, it } from "vitest";
import { ConfigError, Settings } from "../../config/settings.ts";
import { matchNetwork } from "../../policy/network-list.ts";
import { SMTPD_PARAMETERS, sessionConfig } from "./session-config.ts";

describe("sessionConfig", () => {
  it("Postfix's defaults (and Postern's documented ones) without any setting", () => {
    const config = sessionConfig(new Settings());
    expect(config).toMatchObject({
      hostname: "postern.localdomain",
      messageSizeLimit: 10240000,
      recipientLimit: 1000,
      saslResponseLimit: 12288,
      saslAuthEnable: true, // a submission service: AUTH on, TLS required before it
      tlsAuthOnly: false,
      tlsSecurityLevel: "encrypt",
      brokenSaslAuthClients: false,
      saslAuthenticatedHeader: false,
      errorSleepMs: 1000,
      softErrorLimit: 10,
      hardErrorLimit: 20,
      clientAuthRateLimit: 0,
      rateTimeUnitMs: 60_000,
      forbidBareNewline: "reject",
      forbidBareNewlineRejectCode: 550,
      forbidUnauthPipelining: true,
      heloRequired: true,
    });
    expect(config.saslExceptionsNetworks).toEqual([]);
    expect(config.forbidBareNewlineExclusions).toEqual([]);
  });

  it("reads the SMTP parameters from the extra layer", () => {
    const config = sessionConfig(new Settings({ myhostname: "mx.example" }), {
      smtpd_sasl_auth_enable: "yes",
      smtpd_tls_auth_only: "YES",
      smtpd_tls_security_level: "encrypt",
      smtpd_error_sleep_time: "2s",
      smtpd_soft_error_limit: "3",
      smtpd_hard_error_limit: "5",
      smtpd_client_auth_rate_limit: "7",
      anvil_rate_time_unit: "1m",
      smtpd_forbid_bare_newline: "yes",
      smtpd_sasl_exceptions_networks: "10.0.0.0/8, [2001:db8::]/32",
    });
    expect(config).toMatchObject({
      hostname: "mx.example",
      saslAuthEnable: true,
      tlsAuthOnly: true,
      tlsSecurityLevel: "encrypt",
      errorSleepMs: 2000,
      softErrorLimit: 3,
      hardErrorLimit: 5,
      clientAuthRateLimit: 7,
      rateTimeUnitMs: 60_000,
      forbidBareNewline: "normalize",
    });
    expect(matchNetwork(config.saslExceptionsNetworks, "10.1.2.3")).toBe(true);
    expect(matchNetwork(config.saslExceptionsNetworks, "2001:db8::1")).toBe(true);
  });

  it("expands $mynetworks in smtpd_forbid_bare_newline_exclusions (its default)", () => {
    const config = sessionConfig(new Settings({ mynetworks: "192.168.0.0/16" }));
    expect(matchNetwork(config.forbidBareNewlineExclusions, "192.168.3.4")).toBe(true);
    expect(matchNetwork(config.forbidBareNewlineExclusions, "203.0.113.5")).toBe(false);
  });

  it("expands a new parameter's reference to another new parameter", () => {
    const config = sessionConfig(new Settings(), {
      smtpd_sasl_exceptions_networks: "10.0.0.0/8",
      // biome-ignore lint/suspicious/noTemplateCurlyInString: main.cf syntax, not a template
      smtpd_forbid_bare_newline_exclusions: "${smtpd_sasl_exceptions_networks}",
    });
    expect(matchNetwork(config.forbidBareNewlineExclusions, "10.0.0.1")).toBe(true);
  });

  it("lets the extra layer override Settings (a listener's or a test's overrides)", () => {
    const config = sessionConfig(new Settings({ message_size_limit: "42" }), { message_size_limit: "7" });
    expect(config.messageSizeLimit).toBe(7);
    expect(sessionConfig(new Settings({ message_size_limit: "42" })).messageSizeLimit).toBe(42);
  });

  it("reads the SMTP parameters from Settings (postconf -e) as any other", () => {
    const config = sessionConfig(
      new Settings({ smtpd_sasl_auth_enable: "yes", smtpd_hard_error_limit: "3" }),
    );
    expect(config.saslAuthEnable).toBe(true);
    expect(config.hardErrorLimit).toBe(3);
  });

  const invalid: [string, string][] = [
    ["smtpd_sasl_auth_enable", "maybe"],
    ["smtpd_tls_security_level", "dane"],
    ["smtpd_forbid_bare_newline", "sometimes"],
    ["smtpd_error_sleep_time", "soon"],
    ["smtpd_hard_error_limit", "0"],
    ["smtpd_soft_error_limit", "-1"],
    ["smtpd_forbid_bare_newline_reject_code", "250"],
    ["smtpd_sasl_exceptions_networks", "example.com"],
  ];
  for (const [name, value] of invalid) {
    it(`refuses ${name} = ${value}`, () => {
      expect(() => sessionConfig(new Settings(), { [name]: value })).toThrow(ConfigError);
    });
  }

  it("refuses a smtpd_sasl_response_limit below RFC 4954's 12288", () => {
    expect(() => sessionConfig(new Settings({ smtpd_sasl_response_limit: "512" }))).toThrow(/12288/);
  });

  it("documents every parameter it reads that Settings does not know", () => {
    for (const [name, parameter] of Object.entries(SMTPD_PARAMETERS)) {
      expect(parameter.meaning.length, name).toBeGreaterThan(10);
      // The default itself must be accepted.
      expect(() => sessionConfig(new Settings(), { [name]: parameter.default })).not.toThrow();
    }
  });
});
