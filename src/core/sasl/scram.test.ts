import { describe, expect, it } from "vitest";
import { base64ToBytes, bytesToBase64 } from "../encoding/base64.ts";
import type { ClientCredentials, MechanismState, SaslServerContext, Step } from "./mechanism.ts";
import { runExchange, type TestAccount, testContext } from "./memory-credentials.test-helper.ts";
import { nonceSource, RFC5802, RFC7677, type ScramVector } from "./scram.fixture.ts";
import {
  SCRAM_SHA_1,
  SCRAM_SHA_256,
  SCRAM_SHA_256_PLUS,
  type ScramVariant,
  scramMechanism,
} from "./scram.ts";

const bytes = (text: string) => new TextEncoder().encode(text);
const text = (data: Uint8Array) => new TextDecoder().decode(data);
const viaJson = (state: MechanismState | undefined) =>
  JSON.parse(JSON.stringify(state ?? {})) as MechanismState;

const accounts: Record<string, TestAccount> = {
  alice: { password: "correct horse", mayActAs: ["bob"] },
  bob: { password: "battery staple" },
  "a,b=c": { password: "escaped name" },
};
const exporter = (fill: number) => ({ type: "tls-exporter" as const, data: new Uint8Array(32).fill(fill) });

function challengeText(step: Step): string {
  if (step.status.kind !== "more") throw new Error(`expected more, got ${JSON.stringify(step.status)}`);
  return text(step.status.challenge);
}

describe.each([RFC5802, RFC7677])("$mechanism: the RFC example exchange", (vector: ScramVector) => {
  const variant = (nonceLength: number): ScramVariant => ({
    name: vector.mechanism,
    hash: vector.hash,
    plus: false,
    nonceLength,
  });
  const server = scramMechanism(variant(vector.serverNonce.length)).server;
  const ctx = () =>
    testContext(
      {
        [vector.username]: {
          password: vector.password,
          salt: base64ToBytes(vector.salt),
          iterations: vector.iterations,
        },
      },
      { random: nonceSource(vector.serverNonce) },
    );
  const client = () =>
    scramMechanism(variant(vector.clientNonce.length)).client(
      { authcid: vector.username, password: vector.password },
      nonceSource(vector.clientNonce),
    );

  it("produces every message byte for byte, server and client", async () => {
    const c = client();
    const context = ctx();
    const clientFirst = await c.start();
    expect(text(clientFirst!)).toBe(vector.clientFirst);

    const first = await server.start(context, clientFirst);
    expect(challengeText(first)).toBe(vector.serverFirst);

    const reply = await c.step(bytes(vector.serverFirst));
    expect(reply.kind === "respond" && text(reply.response)).toBe(vector.clientFinal);

    const second = await server.step(context, viaJson(first.state), bytes(vector.clientFinal));
    expect(second.status).toEqual({
      kind: "done",
      identity: { authcid: "user", authzid: "user" },
      final: bytes(vector.serverFinal),
    });
    expect(second.state).toBeUndefined();
    expect(await c.finish(bytes(vector.serverFinal))).toEqual({ kind: "done", verified: true });
  });

  it("runs through runExchange (state through JSON) with the client verifying the server", async () => {
    const result = await runExchange(server, client(), ctx());
    expect(result.status.kind).toBe("done");
    expect(result.clientVerified).toBe(true);
    expect(result.challenges.map(text)).toEqual([vector.serverFirst]);
  });

  it("keeps only public exchange data in the state, never a key", async () => {
    const first = await server.start(ctx(), bytes(vector.clientFirst));
    expect(Object.keys(first.state!).sort()).toEqual(
      [
        "authzid",
        "cb",
        "clientFirstBare",
        "gs2Header",
        "login",
        "mechanism",
        "nonce",
        "serverFirst",
        "stage",
      ].sort(),
    );
    expect(first.state).toMatchObject({
      mechanism: vector.mechanism,
      login: "user",
      authzid: null,
      gs2Header: "n,,",
      cb: "n",
      clientFirstBare: vector.clientFirst.slice(3),
      serverFirst: vector.serverFirst,
      nonce: vector.clientNonce + vector.serverNonce,
    });
  });

  it("waits for the client-first with an empty challenge when there is no initial response", async () => {
    const context = ctx();
    const start = await server.start(context, null);
    expect(start.status).toEqual({ kind: "more", challenge: new Uint8Array(0) });
    const first = await server.step(context, viaJson(start.state), bytes(vector.clientFirst));
    expect(challengeText(first)).toBe(vector.serverFirst);
  });
});

describe("the mechanism table rows", () => {
  it.each([
    { spec: SCRAM_SHA_1, name: "SCRAM-SHA-1", channelBinding: false },
    { spec: SCRAM_SHA_256, name: "SCRAM-SHA-256", channelBinding: false },
    { spec: SCRAM_SHA_256_PLUS, name: "SCRAM-SHA-256-PLUS", channelBinding: true },
  ])("$name: mutual auth, no plaintext, channel binding only for -PLUS", ({ spec, name, channelBinding }) => {
    expect(spec.name).toBe(name);
    expect(spec.properties).toEqual({
      plaintext: false,
      active: false,
      dictionary: true,
      anonymous: false,
      mutualAuth: true,
      forwardSecrecy: false,
      channelBinding,
      external: false,
    });
  });

  it.each([SCRAM_SHA_1, SCRAM_SHA_256])("$name logs in with default nonces and salts", async (spec) => {
    const result = await runExchange(
      spec.server,
      spec.client({ authcid: "alice", password: "correct horse" }),
      testContext(accounts),
    );
    expect(result.status).toMatchObject({ kind: "done", identity: { authcid: "alice", authzid: "alice" } });
    expect(result.clientVerified).toBe(true);
  });

  it("SHA-1 and SHA-256 keys are not interchangeable: a SHA-256 state is refused by SCRAM-SHA-1", async () => {
    const ctx = testContext(accounts);
    const client = SCRAM_SHA_256.client({ authcid: "alice", password: "correct horse" });
    const first = await SCRAM_SHA_256.server.start(ctx, await client.start());
    const reply = await client.step((first.status as { challenge: Uint8Array }).challenge);
    if (reply.kind !== "respond") throw new Error("client gave up");
    const step = await SCRAM_SHA_1.server.step(ctx, viaJson(first.state), reply.response);
    expect(step.status).toMatchObject({
      kind: "fail",
      reason: expect.stringContaining("not a SCRAM-SHA-1 state"),
    });
  });
});

describe("SCRAM-SHA-256-PLUS with tls-exporter", () => {
  const plusClient = (credentials: Partial<ClientCredentials> = {}) =>
    SCRAM_SHA_256_PLUS.client({
      authcid: "alice",
      password: "correct horse",
      channelBinding: exporter(7),
      ...credentials,
    });

  it("binds to the connection: c= is the GS2 header followed by the exporter data", async () => {
    const ctx = testContext(accounts, { channelBinding: exporter(7) });
    const client = plusClient();
    const clientFirst = text((await client.start())!);
    expect(clientFirst).toMatch(/^p=tls-exporter,,n=alice,r=[\x21-\x2b\x2d-\x7e]{24}$/);
    const first = await SCRAM_SHA_256_PLUS.server.start(ctx, bytes(clientFirst));
    expect(first.state).toMatchObject({ cb: "p", gs2Header: "p=tls-exporter,," });
    const reply = await client.step(bytes(challengeText(first)));
    if (reply.kind !== "respond") throw new Error("client gave up");
    const expectedC = bytesToBase64(
      new Uint8Array([...bytes("p=tls-exporter,,"), ...new Uint8Array(32).fill(7)]),
    );
    expect(text(reply.response).startsWith(`c=${expectedC},r=`)).toBe(true);
    const done = await SCRAM_SHA_256_PLUS.server.step(ctx, viaJson(first.state), reply.response);
    expect(done.status).toMatchObject({ kind: "done", identity: { authcid: "alice", authzid: "alice" } });
    expect(await client.finish((done.status as { final: Uint8Array }).final)).toEqual({
      kind: "done",
      verified: true,
    });
  });

  it("fails when the two ends see different exporter data (a relayed connection)", async () => {
    const result = await runExchange(
      SCRAM_SHA_256_PLUS.server,
      plusClient(),
      testContext(accounts, { channelBinding: exporter(8) }),
    );
    expect(result.status).toMatchObject({
      kind: "fail",
      reason: "channel-bindings-dont-match",
      login: "alice",
    });
  });

  it("fails p=tls-exporter when this connection has no channel binding", async () => {
    const result = await runExchange(SCRAM_SHA_256_PLUS.server, plusClient(), testContext(accounts));
    expect(result.status).toMatchObject({
      kind: "fail",
      reason: expect.stringMatching(/^channel-binding-not-supported/),
    });
  });

  it("refuses tls-unique with unsupported-channel-binding-type", async () => {
    const ctx = testContext(accounts, { channelBinding: exporter(7) });
    const step = await SCRAM_SHA_256_PLUS.server.start(ctx, bytes("p=tls-unique,,n=alice,r=abcdef"));
    expect(step.status).toMatchObject({
      kind: "fail",
      reason: "unsupported-channel-binding-type: tls-unique",
    });
  });

  it.each(["n", "y"])("refuses flag %s on -PLUS", async (flag) => {
    const ctx = testContext(accounts, { channelBinding: exporter(7) });
    const step = await SCRAM_SHA_256_PLUS.server.start(ctx, bytes(`${flag},,n=alice,r=abcdef`));
    expect(step.status.kind).toBe("fail");
  });

  it("refuses p= on the plain mechanism", async () => {
    const ctx = testContext(accounts, { channelBinding: exporter(7) });
    const step = await SCRAM_SHA_256.server.start(ctx, bytes("p=tls-exporter,,n=alice,r=abcdef"));
    expect(step.status).toMatchObject({
      kind: "fail",
      reason: expect.stringMatching(/^channel-binding-not-supported/),
    });
  });

  it("the -PLUS client without channel binding data sends nothing and fails at the first challenge", async () => {
    const client = SCRAM_SHA_256_PLUS.client({ authcid: "alice", password: "correct horse" });
    expect(await client.start()).toBeNull();
    expect(await client.step(new Uint8Array(0))).toEqual({
      kind: "fail",
      reason: "SCRAM-SHA-256-PLUS needs tls-exporter channel binding data",
    });
  });

  it("a client that could bind says y on the plain mechanism, which a server without -PLUS accepts", async () => {
    const client = SCRAM_SHA_256.client({
      authcid: "alice",
      password: "correct horse",
      channelBinding: exporter(7),
    });
    const result = await runExchange(SCRAM_SHA_256.server, client, testContext(accounts));
    expect(text(result.challenges[0]!)).toMatch(/^r=/);
    expect(result.status.kind).toBe("done");
  });
});

describe("authorization identity (a=)", () => {
  it("lets alice act as bob when mayActAs allows it", async () => {
    const client = SCRAM_SHA_256.client({ authcid: "alice", authzid: "bob", password: "correct horse" });
    expect(text((await client.start())!)).toMatch(/^n,a=bob,n=alice,r=/);
    const result = await runExchange(SCRAM_SHA_256.server, client, testContext(accounts));
    expect(result.status).toMatchObject({ kind: "done", identity: { authcid: "alice", authzid: "bob" } });
  });

  it("refuses bob acting as alice, after authenticating him", async () => {
    const client = SCRAM_SHA_256.client({ authcid: "bob", authzid: "alice", password: "battery staple" });
    const result = await runExchange(SCRAM_SHA_256.server, client, testContext(accounts));
    expect(result.status).toMatchObject({
      kind: "fail",
      login: "bob",
      reason: expect.stringContaining("not authorized"),
    });
    expect(result.steps).toBe(2);
  });

  it("does not ask mayActAs before the proof: a wrong password with a= fails as invalid-proof", async () => {
    let asked = 0;
    const ctx = testContext(accounts, {
      mayActAs: async () => {
        asked++;
        return true;
      },
    });
    const client = SCRAM_SHA_256.client({ authcid: "bob", authzid: "alice", password: "wrong" });
    const result = await runExchange(SCRAM_SHA_256.server, client, ctx);
    expect(result.status).toMatchObject({ kind: "fail", reason: "invalid-proof" });
    expect(asked).toBe(0);
  });

  it("omits a= when the authzid is the authcid", async () => {
    const client = SCRAM_SHA_256.client({ authcid: "alice", authzid: "alice", password: "correct horse" });
    expect(text((await client.start())!)).toMatch(/^n,,n=alice,r=/);
  });

  it("escapes , and = in names (=2C, =3D) both ways", async () => {
    const client = SCRAM_SHA_256.client({ authcid: "a,b=c", password: "escaped name" });
    expect(text((await client.start())!)).toMatch(/^n,,n=a=2Cb=3Dc,r=/);
    const result = await runExchange(SCRAM_SHA_256.server, client, testContext(accounts));
    expect(result.status).toMatchObject({ kind: "done", identity: { authcid: "a,b=c" } });
  });
});

describe("the client", () => {
  const client = (nonce = "clientnonce") =>
    scramMechanism({ name: "SCRAM-SHA-256", hash: "SHA-256", plus: false, nonceLength: nonce.length }).client(
      { authcid: "user", password: "pencil" },
      nonceSource(nonce),
    );
  const serverFirst = (rest: string) => bytes(`r=clientnonceSERVER,s=${RFC7677.salt},${rest}`);

  it.each([
    { name: "fewer than 4096 iterations", message: serverFirst("i=4095"), reason: /iteration count 4095/ },
    {
      name: "more than 100000 iterations",
      message: serverFirst("i=100001"),
      reason: /iteration count 100001/,
    },
    {
      name: "a nonce that does not extend ours",
      message: bytes(`r=someoneelse,s=${RFC7677.salt},i=4096`),
      reason: /nonce/,
    },
    {
      name: "no server part in the nonce",
      message: bytes(`r=clientnonce,s=${RFC7677.salt},i=4096`),
      reason: /nonce/,
    },
    {
      name: "a mandatory extension",
      message: bytes(`m=x,r=clientnonceS,s=${RFC7677.salt},i=4096`),
      reason: /m= extension/,
    },
    { name: "an empty salt", message: bytes("r=clientnonceS,s=,i=4096"), reason: /salt/ },
    { name: "an error instead", message: bytes("e=other-error"), reason: /server-first/ },
  ])("refuses a server-first with $name", async ({ message, reason }) => {
    const c = client();
    await c.start();
    const step = await c.step(message);
    expect(step).toEqual({ kind: "fail", reason: expect.stringMatching(reason) });
  });

  async function atServerFinal() {
    const c = client(RFC7677.clientNonce);
    await c.start();
    await c.step(bytes(RFC7677.serverFirst));
    return c;
  }

  it("accepts the right v= and rejects a wrong one", async () => {
    expect(await (await atServerFinal()).finish(bytes(RFC7677.serverFinal))).toEqual({
      kind: "done",
      verified: true,
    });
    const wrong = `v=${bytesToBase64(new Uint8Array(32).fill(1))}`;
    expect(await (await atServerFinal()).finish(bytes(wrong))).toMatchObject({ kind: "fail" });
    expect(await (await atServerFinal()).finish(bytes(RFC5802.serverFinal))).toMatchObject({ kind: "fail" });
  });

  it("reports e= from the server as a failure", async () => {
    expect(await (await atServerFinal()).finish(bytes("e=invalid-proof"))).toEqual({
      kind: "fail",
      reason: "server error: invalid-proof",
    });
  });

  it("says verified: false when the server reports success without v=", async () => {
    expect(await (await atServerFinal()).finish(null)).toEqual({ kind: "done", verified: false });
  });

  it("takes v= as a challenge, answers with an empty response, and is verified at the end", async () => {
    const c = await atServerFinal();
    expect(await c.step(bytes(RFC7677.serverFinal))).toEqual({
      kind: "respond",
      response: new Uint8Array(0),
    });
    expect(await c.finish(null)).toEqual({ kind: "done", verified: true });
  });

  it("fails a success that comes before the server-first", async () => {
    const c = client();
    await c.start();
    expect(await c.finish(null)).toMatchObject({ kind: "fail" });
  });

  it("sends the client-first again when asked with an empty challenge, once", async () => {
    const c = client();
    const first = await c.start();
    expect(await c.step(new Uint8Array(0))).toEqual({ kind: "respond", response: first });
    expect(await c.step(new Uint8Array(0))).toMatchObject({ kind: "fail" });
  });

  it("refuses to start without a usable password", async () => {
    const c = SCRAM_SHA_256.client({ authcid: "user", password: "" });
    expect(await c.start()).toBeNull();
    expect(await c.step(new Uint8Array(0))).toMatchObject({
      kind: "fail",
      reason: expect.stringContaining("password"),
    });
  });
});

describe("server failures that are not attacks", () => {
  const ctxWith = (overrides: Partial<SaslServerContext>) => testContext(accounts, overrides);

  it("a credential lookup that throws is a temporary failure with the login", async () => {
    const ctx = ctxWith({});
    ctx.credentials = { ...ctx.credentials, scram: async () => Promise.reject(new Error("D1 down")) };
    const step = await SCRAM_SHA_256.server.start(ctx, bytes("n,,n=alice,r=abcdef"));
    expect(step.status).toMatchObject({ kind: "temp", login: "alice" });
  });

  it("a login canonicalLogin refuses fails with invalid-username-encoding", async () => {
    const step = await SCRAM_SHA_256.server.start(ctxWith({}), bytes("n,,n=\u0001x,r=abcdef"));
    expect(step.status).toEqual({ kind: "fail", reason: "invalid-username-encoding" });
  });

  it("uses the canonical login for lookups and the identity", async () => {
    const ctx = ctxWith({ canonicalLogin: (login) => login.toLowerCase() });
    const client = SCRAM_SHA_256.client({ authcid: "ALICE", password: "correct horse" });
    const result = await runExchange(SCRAM_SHA_256.server, client, ctx);
    expect(result.status).toMatchObject({ kind: "done", identity: { authcid: "alice", authzid: "alice" } });
  });
});
