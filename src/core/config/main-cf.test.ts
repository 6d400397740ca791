import { describe, expect, it } from "vitest";
import { parseMainCf } from "./main-cf.ts";
import { Settings } from "./settings.ts";

describe("parseMainCf", () => {
  it("reads name = value, continuation lines and comments as Postfix does", () => {
    const { values, warnings } = parseMainCf(
      [
        "# Postern on a small box",
        "myhostname = mx.example.com",
        "",
        "smtpd_relay_restrictions =",
        "    permit_mynetworks,",
        "\tpermit_sasl_authenticated,",
        "    # a comment inside the continuation is skipped",
        "    reject_unauth_destination",
        "relayhost=[smtp.example.net]:submission",
      ].join("\n"),
    );
    expect(values).toEqual({
      myhostname: "mx.example.com",
      smtpd_relay_restrictions: "permit_mynetworks, permit_sasl_authenticated, reject_unauth_destination",
      relayhost: "[smtp.example.net]:submission",
    });
    expect(warnings).toEqual([]);
  });

  it("leaves $name expansion to Settings, where it sees every layer", () => {
    const { values } = parseMainCf("mydomain = example.com\nmyhostname = mx.$mydomain\n");
    expect(new Settings(values).get("myhostname")).toBe("mx.example.com");
  });

  it("keeps the last of a repeated name and warns about unknown ones", () => {
    const { values, warnings } = parseMainCf(
      "relayhost = [a]:587\nrelayhost = [b]:587\nno_such_thing = 1\n",
      "/etc/postern/main.cf",
    );
    expect(values.relayhost).toBe("[b]:587");
    expect(warnings).toEqual(["/etc/postern/main.cf, line 3: unused parameter: no_such_thing=1"]);
  });

  it("accepts CRLF files and refuses lines that are not assignments", () => {
    expect(parseMainCf("myhostname = a\r\n").values).toEqual({ myhostname: "a" });
    expect(() => parseMainCf("myhostname mx\n")).toThrow(/line 1: expected name = value/);
    expect(() => parseMainCf("  orphan continuation\n")).toThrow(/continuation line without a parameter/);
  });
});
