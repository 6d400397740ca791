import { describe, expect, it } from "vitest";
import { EXTERNAL } from "./external.ts";
import { runExchange, testContext } from "./memory-credentials.test-helper.ts";

const bytes = (text: string) => new TextEncoder().encode(text);

const accounts = { scanner: { password: "x", mayActAs: ["office"] } };
const withCertificate = (overrides = {}) =>
  testContext(accounts, { externalIdentity: "scanner", ...overrides });

describe("EXTERNAL", () => {
  const cases = [
    {
      name: "no authzid: the certificate's identity",
      creds: { authcid: "" },
      want: { kind: "done", identity: { authcid: "scanner", authzid: "scanner" } },
    },
    {
      name: "authzid equal to the identity",
      creds: { authcid: "", authzid: "scanner" },
      want: { kind: "done", identity: { authcid: "scanner", authzid: "scanner" } },
    },
    {
      name: "authzid allowed",
      creds: { authcid: "", authzid: "office" },
      want: { kind: "done", identity: { authcid: "scanner", authzid: "office" } },
    },
    {
      name: "authzid refused",
      creds: { authcid: "", authzid: "alice" },
      want: { kind: "fail", reason: "not authorized to act as alice", login: "scanner" },
    },
  ];
  for (const { name, creds, want } of cases) {
    it(name, async () => {
      const result = await runExchange(EXTERNAL.server, EXTERNAL.client(creds), withCertificate());
      expect(result.status).toEqual(want);
    });
  }

  it("fails without a client certificate, whatever the client sends", async () => {
    for (const initial of [null, new Uint8Array(), bytes("scanner")]) {
      const step = await EXTERNAL.server.start(testContext(accounts), initial);
      expect(step.status).toEqual({ kind: "fail", reason: "no client certificate" });
    }
  });

  it("asks for the authzid with an empty challenge when none was sent", async () => {
    const ctx = withCertificate();
    const start = await EXTERNAL.server.start(ctx, null);
    expect(start.status).toEqual({ kind: "more", challenge: new Uint8Array() });
    const step = await EXTERNAL.server.step(ctx, start.state ?? {}, new Uint8Array());
    expect(step.status).toMatchObject({ kind: "done", identity: { authcid: "scanner" } });
  });

  it("applies canonicalLogin to the certificate identity", async () => {
    const ctx = withCertificate({ canonicalLogin: (login: string) => `${login}@example.org` });
    const step = await EXTERNAL.server.start(ctx, new Uint8Array());
    expect(step.status).toEqual({
      kind: "done",
      identity: { authcid: "scanner@example.org", authzid: "scanner@example.org" },
    });
  });

  const malformed = [
    { name: "invalid UTF-8", input: Uint8Array.of(0xc3) },
    { name: "NUL", input: bytes("office\0alice") },
    { name: "over 255 octets", input: bytes("a".repeat(256)) },
  ];
  for (const { name, input } of malformed) {
    it(`malformed authzid: ${name}`, async () => {
      expect((await EXTERNAL.server.start(withCertificate(), input)).status).toMatchObject({
        kind: "malformed",
        login: "scanner",
      });
    });
  }
});
