import { describe, expect, it } from "vitest";
import { allMechanisms } from "./mechanisms.ts";
import { filterBySecurityOptions, parseSecurityOptions } from "./security-options.ts";

const names = (options: string) => filterBySecurityOptions(allMechanisms(), options).map((spec) => spec.name);

describe("parseSecurityOptions", () => {
  const cases = [
    { input: "", want: [] },
    { input: "noanonymous", want: ["noanonymous"] },
    { input: "noanonymous, noplaintext", want: ["noanonymous", "noplaintext"] },
    { input: " NoPlainText\tnoanonymous,,mutual_auth ", want: ["noplaintext", "noanonymous", "mutual_auth"] },
    { input: "noactive nodictionary forward_secrecy", want: ["noactive", "nodictionary", "forward_secrecy"] },
  ];
  for (const { input, want } of cases) {
    it(JSON.stringify(input), () => expect([...parseSecurityOptions(input)]).toEqual(want));
  }

  for (const input of ["noanonymous, noplain", "plaintext", "no_anonymous", "noanonymous;noplaintext"]) {
    it(`refuses ${JSON.stringify(input)} with ERR_CONFIG naming the option`, () => {
      expect(() => parseSecurityOptions(input, "smtpd_sasl_tls_security_options")).toThrow(
        expect.objectContaining({
          code: "ERR_CONFIG",
          message: expect.stringMatching(/smtpd_sasl_tls_security_options: unknown security option "/),
        }),
      );
    });
  }
});

describe("filterBySecurityOptions on MECHANISMS", () => {
  const cases = [
    {
      options: "",
      want: [
        "SCRAM-SHA-256-PLUS",
        "SCRAM-SHA-256",
        "SCRAM-SHA-1",
        "DIGEST-MD5",
        "CRAM-MD5",
        "OAUTHBEARER",
        "XOAUTH2",
        "PLAIN",
        "LOGIN",
        "EXTERNAL",
        "ANONYMOUS",
      ],
    },
    {
      options: "noanonymous",
      want: [
        "SCRAM-SHA-256-PLUS",
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
      options: "noplaintext",
      want: [
        "SCRAM-SHA-256-PLUS",
        "SCRAM-SHA-256",
        "SCRAM-SHA-1",
        "DIGEST-MD5",
        "CRAM-MD5",
        "EXTERNAL",
        "ANONYMOUS",
      ],
    },
    {
      options: "noanonymous, noplaintext",
      want: ["SCRAM-SHA-256-PLUS", "SCRAM-SHA-256", "SCRAM-SHA-1", "DIGEST-MD5", "CRAM-MD5", "EXTERNAL"],
    },
    {
      options: "noactive",
      want: [
        "SCRAM-SHA-256-PLUS",
        "SCRAM-SHA-256",
        "SCRAM-SHA-1",
        "OAUTHBEARER",
        "XOAUTH2",
        "PLAIN",
        "LOGIN",
        "EXTERNAL",
        "ANONYMOUS",
      ],
    },
    { options: "nodictionary", want: ["OAUTHBEARER", "XOAUTH2", "PLAIN", "LOGIN", "EXTERNAL", "ANONYMOUS"] },
    { options: "mutual_auth", want: ["SCRAM-SHA-256-PLUS", "SCRAM-SHA-256", "SCRAM-SHA-1", "DIGEST-MD5"] },
    { options: "forward_secrecy", want: [] },
    { options: "mutual_auth, nodictionary", want: [] },
  ];
  for (const { options, want } of cases) {
    it(JSON.stringify(options), () => expect(names(options)).toEqual(want));
  }
});
