// Attacks on the mechanisms of MECHANISMS: proxying as someone else, replayed and reflected
// responses, NUL injection, overlong fields, arbitrary bytes, and forged state.
import { describe, expect, it } from "vitest";
import { CRAM_MD5 } from "./cram-md5.ts";
import { DIGEST_MD5 } from "./digest-md5.ts";
import { EXTERNAL } from "./external.ts";
import { LOGIN } from "./login.ts";
import type { MechanismSpec, MechanismState, SaslServerContext, SaslStatus } from "./mechanism.ts";
import { allMechanisms } from "./mechanisms.ts";
import { runExchange, testContext } from "./memory-credentials.test-helper.ts";
import { PLAIN } from "./plain.ts";

const bytes = (text: string) => new TextEncoder().encode(text);

const accounts = {
  alice: { password: "correct horse", sharedSecret: true, mayActAs: ["shared"] },
  admin: { password: "root password", sharedSecret: true },
};

/** A context that records which back-end questions were asked. */
function spyContext(overrides: Partial<SaslServerContext> = {}) {
  const asked: string[] = [];
  const ctx = testContext(accounts, overrides);
  const { mayActAs } = ctx;
  ctx.mayActAs = async (authcid, authzid) => {
    asked.push(`mayActAs ${authcid} ${authzid}`);
    return mayActAs(authcid, authzid);
  };
  return { ctx, asked };
}

describe("authzid != authcid", () => {
  it("PLAIN: alice may not act as admin", async () => {
    const { ctx, asked } = spyContext();
    const step = await PLAIN.server.start(ctx, bytes("admin\0alice\0correct horse"));
    expect(step.status).toEqual({ kind: "fail", reason: "not authorized to act as admin", login: "alice" });
    expect(asked).toEqual(["mayActAs alice admin"]);
  });

  it("PLAIN: authorization is not even asked without the right password", async () => {
    const { ctx, asked } = spyContext();
    const step = await PLAIN.server.start(ctx, bytes("shared\0alice\0guess"));
    expect(step.status).toEqual({ kind: "fail", reason: "authentication failure", login: "alice" });
    expect(asked).toEqual([]);
  });

  it("PLAIN: an authzid that differs only after canonicalization is not a proxy request", async () => {
    const { ctx, asked } = spyContext({ canonicalLogin: (login) => login.toLowerCase() });
    const step = await PLAIN.server.start(ctx, bytes("ALICE\0alice\0correct horse"));
    expect(step.status).toEqual({ kind: "done", identity: { authcid: "alice", authzid: "alice" } });
    expect(asked).toEqual([]);
  });

  it("PLAIN: an authzid the context cannot canonicalize is refused", async () => {
    const ctx = testContext(accounts, { canonicalLogin: (login) => (login.includes("\n") ? null : login) });
    const step = await PLAIN.server.start(ctx, bytes("admin\nx\0alice\0correct horse"));
    expect(step.status).toMatchObject({ kind: "fail", login: "alice" });
  });

  it("DIGEST-MD5: alice may not act as admin, and gets no rspauth", async () => {
    const result = await runExchange(
      DIGEST_MD5.server,
      DIGEST_MD5.client({ authcid: "alice", authzid: "admin", password: "correct horse" }),
      testContext(accounts),
    );
    expect(result.status).toEqual({ kind: "fail", reason: "not authorized to act as admin", login: "alice" });
    expect(result.challenges).toHaveLength(1);
  });

  it("EXTERNAL: a certificate for alice may not act as admin", async () => {
    const step = await EXTERNAL.server.start(
      testContext(accounts, { externalIdentity: "alice" }),
      bytes("admin"),
    );
    expect(step.status).toEqual({ kind: "fail", reason: "not authorized to act as admin", login: "alice" });
  });
});

describe("replay", () => {
  it("CRAM-MD5: a captured response fails against a new challenge", async () => {
    const ctx = testContext(accounts);
    const first = await CRAM_MD5.server.start(ctx, null);
    const client = CRAM_MD5.client({ authcid: "alice", password: "correct horse" });
    const reply = await client.step(first.status.kind === "more" ? first.status.challenge : new Uint8Array());
    if (reply.kind !== "respond") throw new Error("client did not respond");
    expect((await CRAM_MD5.server.step(ctx, first.state ?? {}, reply.response)).status.kind).toBe("done");
    const second = await CRAM_MD5.server.start(ctx, null);
    const replayed = await CRAM_MD5.server.step(ctx, second.state ?? {}, reply.response);
    expect(replayed.status).toEqual({ kind: "fail", reason: "authentication failure", login: "alice" });
  });

  it("DIGEST-MD5: a captured response fails against a new nonce", async () => {
    const ctx = testContext(accounts);
    const first = await DIGEST_MD5.server.start(ctx, null);
    const client = DIGEST_MD5.client({ authcid: "alice", password: "correct horse" });
    const reply = await client.step(first.status.kind === "more" ? first.status.challenge : new Uint8Array());
    if (reply.kind !== "respond") throw new Error("client did not respond");
    expect((await DIGEST_MD5.server.step(ctx, first.state ?? {}, reply.response)).status.kind).toBe("more");
    const second = await DIGEST_MD5.server.start(ctx, null);
    const replayed = await DIGEST_MD5.server.step(ctx, second.state ?? {}, reply.response);
    expect(replayed.status).toEqual({
      kind: "fail",
      reason: "nonce does not match the challenge",
      login: "alice",
    });
  });

  it("DIGEST-MD5: the response cannot be replayed in place of the rspauth acknowledgement", async () => {
    const ctx = testContext(accounts);
    const first = await DIGEST_MD5.server.start(ctx, null);
    const client = DIGEST_MD5.client({ authcid: "alice", password: "correct horse" });
    const reply = await client.step(first.status.kind === "more" ? first.status.challenge : new Uint8Array());
    if (reply.kind !== "respond") throw new Error("client did not respond");
    const proved = await DIGEST_MD5.server.step(ctx, first.state ?? {}, reply.response);
    const again = await DIGEST_MD5.server.step(ctx, proved.state ?? {}, reply.response);
    expect(again.status.kind).toBe("malformed");
  });

  it("DIGEST-MD5: a response made for another service (reflection from IMAP) fails", async () => {
    const ctx = testContext(accounts);
    const start = await DIGEST_MD5.server.start(ctx, null);
    const client = DIGEST_MD5.client({ authcid: "alice", password: "correct horse", service: "imap" });
    const reply = await client.step(start.status.kind === "more" ? start.status.challenge : new Uint8Array());
    if (reply.kind !== "respond") throw new Error("client did not respond");
    const step = await DIGEST_MD5.server.step(ctx, start.state ?? {}, reply.response);
    expect(step.status).toEqual({
      kind: "fail",
      reason: "digest-uri is not smtp/postern.test",
      login: "alice",
    });
  });
});

describe("NUL injection and overlong fields", () => {
  const cases: {
    name: string;
    spec: MechanismSpec;
    state?: MechanismState;
    ctx?: Partial<SaslServerContext>;
    input: string;
    want: Partial<SaslStatus>;
  }[] = [
    {
      name: "PLAIN: NUL after the password",
      spec: PLAIN,
      input: "\0alice\0correct horse\0admin",
      want: { kind: "malformed" },
    },
    {
      name: "PLAIN: NUL smuggled as a fourth field",
      spec: PLAIN,
      input: "\0alice\0\0correct horse",
      want: { kind: "malformed" },
    },
    {
      name: "PLAIN: 256-octet authcid",
      spec: PLAIN,
      input: `\0${"a".repeat(256)}\0pw`,
      want: { kind: "malformed" },
    },
    {
      name: "PLAIN: 256-octet password",
      spec: PLAIN,
      input: `\0alice\0${"p".repeat(256)}`,
      want: { kind: "malformed", login: "alice" },
    },
    {
      name: "PLAIN: 256-octet authzid",
      spec: PLAIN,
      input: `${"z".repeat(256)}\0alice\0correct horse`,
      want: { kind: "malformed", login: "alice" },
    },
    {
      name: "LOGIN: NUL in the username",
      spec: LOGIN,
      state: { stage: "username" },
      input: "alice\0admin",
      want: { kind: "malformed" },
    },
    {
      name: "LOGIN: NUL in the password",
      spec: LOGIN,
      state: { stage: "password", username: "alice" },
      input: "correct horse\0",
      want: { kind: "malformed", login: "alice" },
    },
    {
      name: "LOGIN: 256-octet username",
      spec: LOGIN,
      state: { stage: "username" },
      input: "u".repeat(256),
      want: { kind: "malformed" },
    },
    {
      name: "CRAM-MD5: NUL in the user",
      spec: CRAM_MD5,
      state: { challenge: "<1.2@h>" },
      input: `alice\0admin ${"0".repeat(32)}`,
      want: { kind: "malformed" },
    },
    {
      name: "DIGEST-MD5: escaped NUL in the username",
      spec: DIGEST_MD5,
      state: { stage: "response", nonce: "n" },
      input:
        'username="ali\\\0ce",nonce="n",cnonce="c",nc=00000001,digest-uri="smtp/postern.test",response=00000000000000000000000000000000',
      want: { kind: "malformed" },
    },
    {
      name: "DIGEST-MD5: 4096-octet response",
      spec: DIGEST_MD5,
      state: { stage: "response", nonce: "n" },
      input: `username="${"a".repeat(4096)}"`,
      want: { kind: "malformed" },
    },
    {
      name: "EXTERNAL: NUL in the authzid",
      spec: EXTERNAL,
      ctx: { externalIdentity: "alice" },
      input: "shared\0admin",
      want: { kind: "malformed", login: "alice" },
    },
    {
      name: "EXTERNAL: 256-octet authzid",
      spec: EXTERNAL,
      ctx: { externalIdentity: "alice" },
      input: "z".repeat(256),
      want: { kind: "malformed" },
    },
  ];
  for (const { name, spec, state, ctx, input, want } of cases) {
    it(name, async () => {
      const context = testContext(accounts, ctx);
      const step = state
        ? await spec.server.step(context, state, bytes(input))
        : await spec.server.start(context, bytes(input));
      expect(step.status).toMatchObject(want);
    });
  }
});

// Any bytes, at any step: a clear status and no exception. 12288 octets is Postfix's
// smtpd_sasl_response_limit, which the glue enforces before a mechanism sees a response.
describe("hostile input", () => {
  let seed = 42;
  const noise = Uint8Array.from({ length: 4096 }, () => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed >> 16;
  });
  const HOSTILE: { name: string; input: Uint8Array }[] = [
    { name: "12288 x 'A'", input: new Uint8Array(12288).fill(0x41) },
    { name: "12288 NULs", input: new Uint8Array(12288) },
    { name: "12288 quotes", input: new Uint8Array(12288).fill(0x22) },
    { name: "12288 backslashes", input: new Uint8Array(12288).fill(0x5c) },
    { name: "12288 commas", input: new Uint8Array(12288).fill(0x2c) },
    { name: "every octet value", input: Uint8Array.from({ length: 256 }, (_, i) => i) },
    { name: "invalid UTF-8", input: Uint8Array.of(0xc0, 0x80, 0xff, 0xfe, 0xed, 0xa0, 0x80) },
    { name: "pseudo-random 4 KiB", input: noise },
    { name: "directive soup", input: bytes('username=,="",nonce="\\'.repeat(300)) },
    { name: "many directives", input: bytes("a=1,".repeat(1000)) },
    { name: "lone NUL", input: Uint8Array.of(0) },
    { name: "two NULs", input: Uint8Array.of(0, 0) },
  ];

  /** The entry points of each mechanism: its start, and a step from each state it can be in. */
  const entries: {
    spec: MechanismSpec;
    ctx: Partial<SaslServerContext>;
    states: (MechanismState | "start")[];
  }[] = [
    { spec: PLAIN, ctx: {}, states: ["start", {}] },
    {
      spec: LOGIN,
      ctx: {},
      states: ["start", { stage: "username" }, { stage: "password", username: "alice" }],
    },
    { spec: CRAM_MD5, ctx: {}, states: [{ challenge: "<1.2@postern.test>" }] },
    {
      spec: DIGEST_MD5,
      ctx: {},
      states: [
        { stage: "response", nonce: "n" },
        { stage: "rspauth", authcid: "alice", authzid: "alice" },
      ],
    },
    { spec: findSpec("ANONYMOUS"), ctx: {}, states: ["start", {}] },
    { spec: EXTERNAL, ctx: { externalIdentity: "alice" }, states: ["start", {}] },
    { spec: findSpec("SCRAM-SHA-1"), ctx: {}, states: ["start", {}, { stage: "client-final" }] },
    { spec: findSpec("SCRAM-SHA-256"), ctx: {}, states: ["start", {}, { stage: "client-final" }] },
    {
      spec: findSpec("SCRAM-SHA-256-PLUS"),
      ctx: { channelBinding: { type: "tls-exporter", data: new Uint8Array(32).fill(9) } },
      states: ["start", {}, { stage: "client-final" }],
    },
    { spec: findSpec("OAUTHBEARER"), ctx: {}, states: ["start", {}] },
    { spec: findSpec("XOAUTH2"), ctx: {}, states: ["start", {}] },
  ];

  it("covers every mechanism in the table", () => {
    expect(entries.map((entry) => entry.spec.name).sort()).toEqual(
      allMechanisms()
        .map((spec) => spec.name)
        .sort(),
    );
  });

  for (const { spec, ctx, states } of entries) {
    for (const state of states) {
      const where = state === "start" ? "initial response" : `step from ${JSON.stringify(state)}`;
      it(`${spec.name}, ${where}: never throws, never authenticates`, async () => {
        for (const { name, input } of HOSTILE) {
          const context = testContext(accounts, ctx);
          const step =
            state === "start"
              ? await spec.server.start(context, input)
              : await spec.server.step(context, state, input);
          expect(["fail", "malformed"], `${name}: ${JSON.stringify(step.status)}`).toContain(
            step.status.kind,
          );
        }
      });
    }
  }

  it("forged or corrupted state fails cleanly", async () => {
    const forged: MechanismState[] = [
      {},
      { stage: 1 },
      { stage: "password" },
      { challenge: 7 },
      { nonce: null },
      { stage: "rspauth" },
    ];
    for (const spec of [LOGIN, CRAM_MD5, DIGEST_MD5]) {
      for (const state of forged) {
        const step = await spec.server.step(testContext(accounts), state, bytes("alice"));
        expect(["fail", "malformed"], `${spec.name} ${JSON.stringify(state)}`).toContain(step.status.kind);
      }
    }
  });
});

function findSpec(name: string): MechanismSpec {
  const spec = allMechanisms().find((candidate) => candidate.name === name);
  if (!spec) throw new Error(`no ${name}`);
  return spec;
}
