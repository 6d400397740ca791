import { describe, expect, it } from "vitest";
import { parseDuration, Settings, splitList } from "./settings.ts";
import { validateParameter } from "./validate-parameter.ts";

describe("Settings", () => {
  it("layers defaults, deployment vars and run-time overrides, later wins", () => {
    const s = new Settings(
      { relayhost: "[a.example]:587", myhostname: "gw.example" },
      { relayhost: "[b.example]:465" },
    );
    expect(s.get("relayhost")).toBe("[b.example]:465");
    expect(s.get("myhostname")).toBe("gw.example");
    expect(s.get("message_size_limit")).toBe("10240000");
  });

  it("ignores names that are not parameters (other bindings share the env)", () => {
    const s = new Settings({ DB: "binding", relayhost: "[x]:25" });
    expect(s.get("relayhost")).toBe("[x]:25");
  });

  it.each([
    { name: "bare", raw: "$myhostname", want: "gw.example" },
    // biome-ignore lint/suspicious/noTemplateCurlyInString: main.cf syntax, not a template
    { name: "braced", raw: "mail.${mydomain}", want: "mail.example" },
    { name: "nested", raw: "$smtp_helo_name", want: "gw.example" },
    { name: "unknown names stay", raw: "$nonsense", want: "$nonsense" },
    { name: "a name with capitals", raw: "$smtp_tls_CAfile", want: "/etc/ssl/ca.pem" },
  ])("expands $name references: $name", ({ raw, want }) => {
    const s = new Settings({
      myhostname: "gw.example",
      mydomain: "example",
      smtp_tls_CAfile: "/etc/ssl/ca.pem",
      relayhost: raw,
    });
    expect(s.get("relayhost")).toBe(want);
    expect(s.raw("relayhost")).toBe(raw);
  });

  it("refuses a self-referencing value instead of looping", () => {
    const s = new Settings({ relayhost: "$relayhost" });
    expect(() => s.get("relayhost")).toThrow(/too deep/);
  });

  it("parses booleans, integers and durations strictly", () => {
    const s = new Settings({
      smtp_sasl_auth_enable: "yes",
      smtp_tls_wrappermode: "maybe",
      message_size_limit: "10k",
    });
    expect(s.bool("smtp_sasl_auth_enable")).toBe(true);
    expect(() => s.bool("smtp_tls_wrappermode")).toThrow(/yes or no/);
    expect(() => s.int("message_size_limit")).toThrow(/whole number/);
    expect(s.duration("maximal_queue_lifetime")).toBe(5 * 86400_000);
  });
});

describe("parseDuration", () => {
  it.each([
    ["300s", 300_000],
    ["300", 300_000],
    ["5m", 300_000],
    ["2h", 7_200_000],
    ["5d", 432_000_000],
    ["1w", 604_800_000],
    ["0s", 0],
    ["5x", null],
    ["-1s", null],
    ["", null],
  ])("%s -> %s", (value, want) => expect(parseDuration(value)).toBe(want));
});

describe("splitList", () => {
  it("splits on commas and whitespace", () => {
    expect(splitList("a, b  c,\n d,,")).toEqual(["a", "b", "c", "d"]);
  });
});

describe("validateParameter for the SMTP listener's parameters", () => {
  it("accepts Postfix values and refuses what the listener would refuse", () => {
    expect(validateParameter("smtpd_sasl_auth_enable", "yes")).toBeNull();
    expect(validateParameter("smtpd_tls_security_level", "encrypt")).toBeNull();
    expect(validateParameter("smtpd_sasl_auth_enable", "maybe")).not.toBeNull();
    expect(validateParameter("smtpd_forbid_bare_newline", "sometimes")).not.toBeNull();
    expect(validateParameter("smtpd_hard_error_limit", "lots")).not.toBeNull();
  });
});

describe("validateParameter for the lmtp_* twins", () => {
  it("checks a twin as its smtp_* parameter", () => {
    expect(validateParameter("lmtp_sasl_security_options", "noplaintext, noanonymous")).toBeNull();
    expect(validateParameter("lmtp_sasl_security_options", "nosuchoption")).toMatch(
      /unknown security option/,
    );
    expect(validateParameter("lmtp_sasl_mechanism_filter", "!scram-sha-1, static:all")).toBeNull();
    expect(validateParameter("lmtp_sasl_auth_soft_bounce", "maybe")).not.toBeNull();
    expect(validateParameter("lmtp_tls_security_level", "secure")).toBeNull();
    expect(validateParameter("lmtp_tls_security_level", "dane")).not.toBeNull();
    expect(validateParameter("lmtp_sasl_auth_cache_time", "forever")).not.toBeNull();
    // Parameters of LMTP's own (no smtp_* counterpart) are checked as they are.
    expect(validateParameter("lmtp_lhlo_name", "mx.example")).toBeNull();
  });
});
