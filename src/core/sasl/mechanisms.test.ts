import { describe, expect, it } from "vitest";
import type { ClientCredentials, MechanismProperties } from "./mechanism.ts";
import { allMechanisms, findMechanism, MECHANISM_NAMES, MECHANISMS } from "./mechanisms.ts";
import { runExchange, testContext } from "./memory-credentials.test-helper.ts";

const NONE: MechanismProperties = {
  plaintext: false,
  active: false,
  dictionary: false,
  anonymous: false,
  mutualAuth: false,
  forwardSecrecy: false,
  channelBinding: false,
  external: false,
};

describe("MECHANISMS", () => {
  // Dovecot's declarations (reference/postfix-semantics.md).
  const properties: Record<string, Partial<MechanismProperties>> = {
    PLAIN: { plaintext: true },
    LOGIN: { plaintext: true },
    "CRAM-MD5": { dictionary: true, active: true },
    "DIGEST-MD5": { dictionary: true, active: true, mutualAuth: true },
    ANONYMOUS: { anonymous: true },
    EXTERNAL: { external: true },
    // Cyrus's flags for SCRAM: no plaintext, resists active attacks, open to offline dictionary
    // attacks on a captured exchange, proves the server.
    "SCRAM-SHA-1": { dictionary: true, mutualAuth: true },
    "SCRAM-SHA-256": { dictionary: true, mutualAuth: true },
    "SCRAM-SHA-256-PLUS": { dictionary: true, mutualAuth: true, channelBinding: true },
    // A bearer token is a password (postfix-semantics.md).
    OAUTHBEARER: { plaintext: true },
    XOAUTH2: { plaintext: true },
  };
  for (const [name, want] of Object.entries(properties)) {
    it(`${name} has ${JSON.stringify(want)} and nothing else`, () => {
      expect(findMechanism(name)?.properties).toEqual({ ...NONE, ...want });
    });
  }

  it("is keyed by each spec's IANA name", () => {
    for (const [key, spec] of Object.entries(MECHANISMS)) expect(spec?.name).toBe(key);
    expect(Object.keys(MECHANISMS).sort()).toEqual(Object.keys(properties).sort());
  });

  it("finds mechanisms case-insensitively and nothing else", () => {
    expect(findMechanism("digest-md5")?.name).toBe("DIGEST-MD5");
    expect(findMechanism("scram-sha-256")?.name).toBe("SCRAM-SHA-256");
    for (const name of ["NTLM", "GSSAPI", "SCRAM-SHA-512", "", "PLAIN ", "__proto__", "constructor"]) {
      expect(findMechanism(name)).toBeUndefined();
    }
  });

  it("lists them strongest first, in MECHANISM_NAMES order", () => {
    expect(allMechanisms().map((spec) => spec.name)).toEqual(
      MECHANISM_NAMES.filter((name) => MECHANISMS[name]),
    );
    expect(allMechanisms().map((spec) => spec.name)).toEqual([
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
    ]);
  });
});

// Every password mechanism, its server against its own client: an unknown login must look exactly
// like a wrong password, apart from the login named for the log.
describe("password mechanisms, server against client", () => {
  const accounts = {
    alice: { password: "correct horse", sharedSecret: true, mayActAs: ["shared"] },
  };
  const mechanisms = ["PLAIN", "LOGIN", "CRAM-MD5", "DIGEST-MD5"];
  const run = (name: string, credentials: ClientCredentials) => {
    const spec = findMechanism(name)!;
    return runExchange(spec.server, spec.client(credentials), testContext(accounts));
  };
  for (const name of mechanisms) {
    it(`${name}: right password`, async () => {
      const result = await run(name, { authcid: "alice", password: "correct horse" });
      expect(result.status).toEqual({ kind: "done", identity: { authcid: "alice", authzid: "alice" } });
    });

    it(`${name}: wrong password and unknown user fail alike`, async () => {
      const wrong = await run(name, { authcid: "alice", password: "wrong horse" });
      const unknown = await run(name, { authcid: "nobody", password: "wrong horse" });
      expect(wrong.status).toEqual({ kind: "fail", reason: "authentication failure", login: "alice" });
      expect(unknown.status).toEqual({ kind: "fail", reason: "authentication failure", login: "nobody" });
      expect(unknown.challenges.length).toBe(wrong.challenges.length);
    });
  }

  for (const name of ["PLAIN", "DIGEST-MD5"]) {
    it(`${name}: authzid allowed and refused`, async () => {
      const allowed = await run(name, { authcid: "alice", authzid: "shared", password: "correct horse" });
      expect(allowed.status).toEqual({ kind: "done", identity: { authcid: "alice", authzid: "shared" } });
      const refused = await run(name, { authcid: "alice", authzid: "root", password: "correct horse" });
      expect(refused.status).toEqual({
        kind: "fail",
        reason: "not authorized to act as root",
        login: "alice",
      });
    });
  }
});
