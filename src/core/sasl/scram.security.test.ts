// Attacks on SCRAM: replayed and spliced messages, channel binding downgrades and relays,
// account probing, tampered GS2 headers, a malicious server, and hostile bytes at every step.
import { describe, expect, it } from "vitest";
import { bytesToBase64 } from "../encoding/base64.ts";
import type { MechanismState, SaslServerContext, Step } from "./mechanism.ts";
import {
  runExchange,
  type TestAccount,
  testContext,
  testScramKeys,
} from "./memory-credentials.test-helper.ts";
import { SCRAM_SHA_1, SCRAM_SHA_256, SCRAM_SHA_256_PLUS } from "./scram.ts";
import { SCRAM_MESSAGE_LIMIT } from "./scram-messages.ts";

const enc = new TextEncoder();
const bytes = (text: string) => enc.encode(text);
const text = (data: Uint8Array) => new TextDecoder().decode(data);
const viaJson = (state: MechanismState | undefined) =>
  JSON.parse(JSON.stringify(state ?? {})) as MechanismState;

const accounts: Record<string, TestAccount> = {
  alice: { password: "correct horse" },
  mallory: { password: "mallory's own" },
};
const exporter = (fill: number) => ({ type: "tls-exporter" as const, data: new Uint8Array(32).fill(fill) });

function challenge(step: Step): string {
  if (step.status.kind !== "more") throw new Error(`expected more, got ${JSON.stringify(step.status)}`);
  return text(step.status.challenge);
}

// An attacker who knows the password computes proofs over whatever messages they like; this does
// so independently of the code under test (RFC 5802 §3).
async function hmac(key: Uint8Array, data: Uint8Array): Promise<Uint8Array> {
  const k = await crypto.subtle.importKey("raw", key, { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  return new Uint8Array(await crypto.subtle.sign("HMAC", k, data));
}
async function proofFor(
  password: string,
  serverFirst: string,
  clientFirstBare: string,
  withoutProof: string,
) {
  const salt = Uint8Array.from(atob(/,s=([^,]+)/.exec(serverFirst)![1]!), (c) => c.charCodeAt(0));
  const iterations = Number(/,i=(\d+)/.exec(serverFirst)![1]);
  const key = await crypto.subtle.importKey("raw", bytes(password), "PBKDF2", false, ["deriveBits"]);
  const salted = new Uint8Array(
    await crypto.subtle.deriveBits({ name: "PBKDF2", hash: "SHA-256", salt, iterations }, key, 256),
  );
  const clientKey = await hmac(salted, bytes("Client Key"));
  const storedKey = new Uint8Array(await crypto.subtle.digest("SHA-256", clientKey));
  const signature = await hmac(storedKey, bytes(`${clientFirstBare},${serverFirst},${withoutProof}`));
  return bytesToBase64(clientKey.map((b, i) => b ^ signature[i]!));
}

/** Starts an exchange for `clientFirst` and returns what the attacker sees and the state. */
async function begin(clientFirst: string, ctx: SaslServerContext, spec = SCRAM_SHA_256) {
  const first = await spec.server.start(ctx, bytes(clientFirst));
  const serverFirst = challenge(first);
  const nonce = /^r=([^,]+)/.exec(serverFirst)![1]!;
  return { serverFirst, nonce, state: viaJson(first.state) };
}

describe("account probing", () => {
  async function failureOf(login: string, password: string) {
    const ctx = testContext(accounts);
    const client = SCRAM_SHA_256.client({ authcid: login, password });
    return runExchange(SCRAM_SHA_256.server, client, ctx);
  }

  it("an unknown login fails exactly like a wrong password, at the same step", async () => {
    const unknown = await failureOf("nobody", "correct horse");
    const wrong = await failureOf("alice", "wrong password");
    expect(wrong.status).toEqual({ kind: "fail", reason: "invalid-proof", login: "alice" });
    expect(unknown.status).toEqual({ kind: "fail", reason: "invalid-proof", login: "nobody" });
    expect(unknown.steps).toBe(wrong.steps);
  });

  it("an unknown login gets a server-first of the same shape as a real record's", async () => {
    // A real record: 16-byte random salt, default 4096 iterations (deriveCredentialRecord).
    const ctx = testContext({
      alice: { password: "correct horse", salt: crypto.getRandomValues(new Uint8Array(16)) },
    });
    const shape = /^r=abcdef[\x21-\x2b\x2d-\x7e]{24},s=[A-Za-z0-9+/]{22}==,i=4096$/;
    expect((await begin("n,,n=alice,r=abcdef", ctx)).serverFirst).toMatch(shape);
    expect((await begin("n,,n=nobody,r=abcdef", ctx)).serverFirst).toMatch(shape);
  });

  it("an unknown login's salt is stable across attempts and hashes, and differs between logins", async () => {
    const salt = async (login: string, spec = SCRAM_SHA_256) =>
      /,s=([^,]+),/.exec(
        (await begin(`n,,n=${login},r=abcdef`, testContext(accounts), spec)).serverFirst,
      )![1];
    const first = await salt("nobody");
    expect(await salt("nobody")).toBe(first);
    expect(await salt("nobody", SCRAM_SHA_1)).toBe(first);
    expect(await salt("someone-else")).not.toBe(first);
  });

  it("an unknown login cannot be logged into even with a proof made for its stand-in salt", async () => {
    const ctx = testContext(accounts);
    const { serverFirst, nonce, state } = await begin("n,,n=nobody,r=abcdef", ctx);
    const withoutProof = `c=biws,r=${nonce}`;
    const proof = await proofFor("anything", serverFirst, "n=nobody,r=abcdef", withoutProof);
    const step = await SCRAM_SHA_256.server.step(ctx, state, bytes(`${withoutProof},p=${proof}`));
    expect(step.status).toEqual({ kind: "fail", reason: "invalid-proof", login: "nobody" });
  });
});

describe("replay and splicing", () => {
  it("a client-final replayed against a fresh server-first fails", async () => {
    const ctx = testContext(accounts);
    const client = SCRAM_SHA_256.client({ authcid: "alice", password: "correct horse" });
    const clientFirst = await client.start();
    const first = await SCRAM_SHA_256.server.start(ctx, clientFirst);
    const reply = await client.step(bytes(challenge(first)));
    if (reply.kind !== "respond") throw new Error("client gave up");
    const recorded = reply.response;
    const ok = await SCRAM_SHA_256.server.step(ctx, viaJson(first.state), recorded);
    expect(ok.status.kind).toBe("done");

    // Same client-first, new exchange: the server picks a new nonce, the recording is stale.
    const fresh = await SCRAM_SHA_256.server.start(ctx, clientFirst);
    expect(challenge(fresh)).not.toBe(challenge(first));
    const replayed = await SCRAM_SHA_256.server.step(ctx, viaJson(fresh.state), recorded);
    expect(replayed.status).toMatchObject({
      kind: "fail",
      reason: expect.stringMatching(/nonce/),
      login: "alice",
    });
  });

  it("a client-final with the nonce rewritten to the new exchange's fails the proof", async () => {
    const ctx = testContext(accounts);
    const client = SCRAM_SHA_256.client({ authcid: "alice", password: "correct horse" });
    const clientFirst = await client.start();
    const first = await SCRAM_SHA_256.server.start(ctx, clientFirst);
    const reply = await client.step(bytes(challenge(first)));
    if (reply.kind !== "respond") throw new Error("client gave up");
    const oldNonce = /^r=([^,]+)/.exec(challenge(first))![1]!;
    const fresh = await SCRAM_SHA_256.server.start(ctx, clientFirst);
    const newNonce = /^r=([^,]+)/.exec(challenge(fresh))![1]!;
    const spliced = text(reply.response).replace(oldNonce, newNonce);
    const step = await SCRAM_SHA_256.server.step(ctx, viaJson(fresh.state), bytes(spliced));
    expect(step.status).toEqual({ kind: "fail", reason: "invalid-proof", login: "alice" });
  });

  it("a tampered nonce fails", async () => {
    const ctx = testContext(accounts);
    const { serverFirst, nonce, state } = await begin("n,,n=alice,r=abcdef", ctx);
    const tampered = `${nonce.slice(0, -1)}${nonce.endsWith("A") ? "B" : "A"}`;
    const withoutProof = `c=biws,r=${tampered}`;
    const proof = await proofFor("correct horse", serverFirst, "n=alice,r=abcdef", withoutProof);
    const step = await SCRAM_SHA_256.server.step(ctx, state, bytes(`${withoutProof},p=${proof}`));
    expect(step.status).toMatchObject({ kind: "fail", reason: expect.stringMatching(/nonce/) });
  });

  it("mallory's proof does not open alice's exchange", async () => {
    const ctx = testContext(accounts);
    const { serverFirst, nonce, state } = await begin("n,,n=alice,r=abcdef", ctx);
    const withoutProof = `c=biws,r=${nonce}`;
    const proof = await proofFor("mallory's own", serverFirst, "n=alice,r=abcdef", withoutProof);
    const step = await SCRAM_SHA_256.server.step(ctx, state, bytes(`${withoutProof},p=${proof}`));
    expect(step.status).toEqual({ kind: "fail", reason: "invalid-proof", login: "alice" });
  });

  it("a state cannot be edited into another login: the proof is checked against the state's login", async () => {
    const ctx = testContext(accounts);
    const { serverFirst, nonce, state } = await begin("n,,n=mallory,r=abcdef", ctx);
    const withoutProof = `c=biws,r=${nonce}`;
    const proof = await proofFor("mallory's own", serverFirst, "n=mallory,r=abcdef", withoutProof);
    const step = await SCRAM_SHA_256.server.step(
      ctx,
      { ...state, login: "alice" },
      bytes(`${withoutProof},p=${proof}`),
    );
    expect(step.status).toMatchObject({ kind: "fail", reason: "invalid-proof" });
  });

  it.each([
    { name: "no stage", state: {} },
    { name: "another mechanism", mutate: { mechanism: "SCRAM-SHA-1" } },
    { name: "a numeric login", mutate: { login: 7 } },
    { name: "an unknown cb flag", mutate: { cb: "q" } },
  ])("a state with $name is refused, not trusted", async ({ state, mutate }) => {
    const ctx = testContext(accounts);
    const started = await begin("n,,n=alice,r=abcdef", ctx);
    const step = await SCRAM_SHA_256.server.step(
      ctx,
      state ?? { ...started.state, ...mutate },
      bytes("c=biws,r=x,p=AAAA"),
    );
    expect(step.status).toMatchObject({ kind: "fail", reason: expect.stringContaining("state") });
  });
});

describe("GS2 header and channel binding attacks", () => {
  // Valid proofs over the altered messages, so only the c= check can catch them.
  async function finalWithC(
    ctx: SaslServerContext,
    clientFirst: string,
    cValue: string,
    spec = SCRAM_SHA_256,
  ) {
    const { serverFirst, nonce, state } = await begin(clientFirst, ctx, spec);
    const bare = clientFirst.slice(clientFirst.indexOf("n=", 2));
    const withoutProof = `c=${cValue},r=${nonce}`;
    const proof = await proofFor("correct horse", serverFirst, bare, withoutProof);
    return spec.server.step(ctx, state, bytes(`${withoutProof},p=${proof}`));
  }

  it("c= must echo the GS2 header: n,, in client-first but y,, in c= fails", async () => {
    const step = await finalWithC(testContext(accounts), "n,,n=alice,r=abcdef", bytesToBase64(bytes("y,,")));
    expect(step.status).toEqual({ kind: "fail", reason: "channel-bindings-dont-match", login: "alice" });
  });

  it("an authzid smuggled into c= only fails", async () => {
    const step = await finalWithC(
      testContext(accounts),
      "n,,n=alice,r=abcdef",
      bytesToBase64(bytes("n,a=mallory,")),
    );
    expect(step.status).toEqual({ kind: "fail", reason: "channel-bindings-dont-match", login: "alice" });
  });

  it("the same valid proof with the right c= succeeds (the checks above are what failed)", async () => {
    const step = await finalWithC(testContext(accounts), "n,,n=alice,r=abcdef", "biws");
    expect(step.status.kind).toBe("done");
  });

  it("downgrade: y (client could bind) while this server offers -PLUS fails at once", async () => {
    const ctx = testContext(accounts, { channelBinding: exporter(1) });
    const client = SCRAM_SHA_256.client({
      authcid: "alice",
      password: "correct horse",
      channelBinding: exporter(1),
    });
    const result = await runExchange(SCRAM_SHA_256.server, client, ctx);
    expect(result.status).toEqual({
      kind: "fail",
      reason: "server-does-support-channel-binding",
      login: "alice",
    });
    expect(result.steps).toBe(1);
  });

  it("a relayed -PLUS exchange (MITM with its own TLS) fails even with a valid proof", async () => {
    // The client computed its proof with the data of its connection to the attacker (fill 1).
    const victim = Uint8Array.from([...bytes("p=tls-exporter,,"), ...exporter(1).data]);
    const step = await finalWithC(
      testContext(accounts, { channelBinding: exporter(2) }),
      "p=tls-exporter,,n=alice,r=abcdef",
      bytesToBase64(victim),
      SCRAM_SHA_256_PLUS,
    );
    expect(step.status).toEqual({ kind: "fail", reason: "channel-bindings-dont-match", login: "alice" });
  });

  it("a -PLUS continuation finished on a connection without channel binding fails", async () => {
    const plus = await begin(
      "p=tls-exporter,,n=alice,r=abcdef",
      testContext(accounts, { channelBinding: exporter(1) }),
      SCRAM_SHA_256_PLUS,
    );
    const step = await SCRAM_SHA_256_PLUS.server.step(
      testContext(accounts),
      plus.state,
      bytes("c=biws,r=x,p=AAAA"),
    );
    expect(step.status).toMatchObject({
      kind: "fail",
      reason: expect.stringMatching(/^channel-bindings-dont-match/),
    });
  });

  it("an escaped comma cannot inject attributes into the username", async () => {
    const ctx = testContext(accounts);
    const step = await SCRAM_SHA_256.server.start(ctx, bytes("n,,n=alice=2Ca=3Dmallory,r=abcdef"));
    expect(step.state).toMatchObject({ login: "alice,a=mallory", authzid: null });
  });
});

describe("a malicious server, seen by the client", () => {
  it("an impostor server with keys for a guessed password cannot produce a v= the client accepts", async () => {
    const client = SCRAM_SHA_256.client({ authcid: "alice", password: "correct horse" });
    const clientFirst = text((await client.start())!);
    const serverFirst = `r=${clientFirst.split("r=")[1]}impostor,s=${bytesToBase64(bytes("salt"))},i=4096`;
    const reply = await client.step(bytes(serverFirst));
    if (reply.kind !== "respond") throw new Error("client gave up");
    const withoutProof = text(reply.response).replace(/,p=[^,]*$/, "");
    // The impostor skips the proof check and signs with the ServerKey of its guess.
    const { serverKey } = await testScramKeys("guessed", "SHA-256", bytes("salt"), 4096);
    const authMessage = bytes(`${clientFirst.slice(3)},${serverFirst},${withoutProof}`);
    const forged = `v=${bytesToBase64(await hmac(serverKey, authMessage))}`;
    expect(await client.finish(bytes(forged))).toMatchObject({
      kind: "fail",
      reason: expect.stringContaining("signature"),
    });
  });

  it("a low iteration count (cheap offline cracking) is refused before any proof is sent", async () => {
    const client = SCRAM_SHA_256.client(
      { authcid: "alice", password: "correct horse" },
      () => new Uint8Array(24),
    );
    const clientFirst = text((await client.start())!);
    const cnonce = clientFirst.split("r=")[1];
    const step = await client.step(bytes(`r=${cnonce}srv,s=c2FsdA==,i=1`));
    expect(step).toMatchObject({ kind: "fail" });
  });
});

// Hostile bytes at each step: the answer is malformed or fail (or more, for a valid variant),
// never an exception and never success.
const oversized = new Uint8Array(SCRAM_MESSAGE_LIMIT + 1).fill(0x61);
const clientFirstCases: { name: string; input: Uint8Array | string; want: string }[] = [
  { name: "empty", input: "", want: "malformed" },
  { name: "flag only", input: "n", want: "malformed" },
  { name: "one comma", input: "n,", want: "malformed" },
  { name: "header only", input: "n,,", want: "malformed" },
  { name: "unknown flag", input: "x,,n=alice,r=abc", want: "malformed" },
  { name: "GS2 non-standard F flag", input: "F,n,,n=alice,r=abc", want: "malformed" },
  { name: "p without type", input: "p,,n=alice,r=abc", want: "malformed" },
  { name: "empty cb-name", input: "p=,,n=alice,r=abc", want: "malformed" },
  { name: "space in cb-name", input: "p=tls exporter,,n=alice,r=abc", want: "malformed" },
  { name: "authzid without a=", input: "n,alice,n=alice,r=abc", want: "malformed" },
  { name: "empty authzid", input: "n,a=,n=alice,r=abc", want: "malformed" },
  { name: "bad escape in authzid", input: "n,a=b=2,n=alice,r=abc", want: "malformed" },
  { name: "attributes out of order", input: "n,,r=abc,n=alice", want: "malformed" },
  { name: "no nonce", input: "n,,n=alice", want: "malformed" },
  { name: "empty username", input: "n,,n=,r=abc", want: "malformed" },
  { name: "bad escape in username", input: "n,,n=al=ice,r=abc", want: "malformed" },
  { name: "empty nonce", input: "n,,n=alice,r=", want: "malformed" },
  { name: "DEL in nonce", input: "n,,n=alice,r=a\x7fb", want: "malformed" },
  { name: "non-ASCII nonce", input: "n,,n=alice,r=ab\u00e9", want: "malformed" },
  { name: "NUL in username", input: "n,,n=ali\u0000ce,r=abc", want: "malformed" },
  { name: "repeated n=", input: "n,,n=alice,r=abc,n=mallory", want: "malformed" },
  { name: "two-letter attribute", input: "n,,n=alice,r=abc,xx=1", want: "malformed" },
  { name: "trailing comma", input: "n,,n=alice,r=abc,", want: "malformed" },
  {
    name: "invalid UTF-8",
    input: Uint8Array.from([...bytes("n,,n=al"), 0xff, ...bytes(",r=abc")]),
    want: "malformed",
  },
  { name: "oversized", input: oversized, want: "malformed" },
  { name: "mandatory extension", input: "n,,m=ext,n=alice,r=abc", want: "fail" },
  { name: "control character in login", input: "n,,n=\u0007,r=abc", want: "fail" },
  { name: "unknown extension (ignored)", input: "n,,n=alice,r=abc,x=1", want: "more" },
];

describe("hostile client-first messages", () => {
  it.each(clientFirstCases)("$name -> $want", async ({ input, want }) => {
    const data = typeof input === "string" ? bytes(input) : input;
    for (const spec of [SCRAM_SHA_1, SCRAM_SHA_256]) {
      const step = await spec.server.start(testContext(accounts), data);
      expect(step.status.kind).toBe(want);
    }
  });
});

describe("hostile client-final messages", () => {
  const proofLike = bytesToBase64(new Uint8Array(32));
  const cases = (nonce: string): { name: string; input: Uint8Array | string; want: string }[] => [
    { name: "empty", input: "", want: "malformed" },
    { name: "c= only", input: "c=biws", want: "malformed" },
    { name: "no proof", input: `c=biws,r=${nonce}`, want: "malformed" },
    { name: "out of order", input: `r=${nonce},c=biws,p=${proofLike}`, want: "malformed" },
    { name: "empty proof", input: `c=biws,r=${nonce},p=`, want: "malformed" },
    { name: "proof not base64", input: `c=biws,r=${nonce},p=!!!!`, want: "malformed" },
    {
      name: "proof without padding",
      input: `c=biws,r=${nonce},p=${proofLike.replace(/=+$/, "")}`,
      want: "malformed",
    },
    {
      name: "proof with non-zero pad bits",
      input: `c=biws,r=${nonce},p=${proofLike.replace("A=", "B=")}`,
      want: "malformed",
    },
    { name: "proof not last", input: `c=biws,r=${nonce},p=${proofLike},x=1`, want: "malformed" },
    { name: "two proofs", input: `c=biws,r=${nonce},p=${proofLike},p=${proofLike}`, want: "malformed" },
    { name: "space in c=", input: `c=bi ws,r=${nonce},p=${proofLike}`, want: "malformed" },
    { name: "empty c=", input: `c=,r=${nonce},p=${proofLike}`, want: "malformed" },
    {
      name: "invalid UTF-8",
      input: Uint8Array.from([...bytes("c=biws,r="), 0xc0, 0x80, ...bytes(`,p=${proofLike}`)]),
      want: "malformed",
    },
    { name: "oversized", input: oversized, want: "malformed" },
    { name: "short proof", input: `c=biws,r=${nonce},p=AAAA`, want: "fail" },
    { name: "long proof", input: `c=biws,r=${nonce},p=${bytesToBase64(new Uint8Array(64))}`, want: "fail" },
    { name: "zero proof", input: `c=biws,r=${nonce},p=${proofLike}`, want: "fail" },
    {
      name: "extension before the proof (ignored)",
      input: `c=biws,r=${nonce},x=1,p=${proofLike}`,
      want: "fail",
    },
  ];

  it("answers every case with its kind", async () => {
    const ctx = testContext(accounts);
    const { nonce, state } = await begin("n,,n=alice,r=abcdef", ctx);
    for (const { name, input, want } of cases(nonce)) {
      const step = await SCRAM_SHA_256.server.step(
        ctx,
        state,
        typeof input === "string" ? bytes(input) : input,
      );
      expect({ name, kind: step.status.kind }).toEqual({ name, kind: want });
      expect(step.status).toMatchObject({ login: "alice" });
    }
  });
});

// A deterministic mutation fuzzer over the messages of a good exchange.
function mulberry32(seed: number) {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function mutate(input: Uint8Array, rand: () => number): Uint8Array {
  const out = [...input];
  const at = Math.floor(rand() * (out.length + 1));
  const interesting = [0x00, 0x2c, 0x3d, 0x0a, 0xff, 0x80, 0x20, 0x61, 0x7f];
  const byte =
    rand() < 0.5 ? interesting[Math.floor(rand() * interesting.length)]! : Math.floor(rand() * 256);
  switch (Math.floor(rand() * 4)) {
    case 0:
      out.splice(at, 1, byte); // replace
      break;
    case 1:
      out.splice(at, 0, byte); // insert
      break;
    case 2:
      out.splice(at, 1); // delete
      break;
    default:
      out.length = at; // truncate
  }
  return Uint8Array.from(out);
}

const same = (a: Uint8Array, b: Uint8Array) => a.length === b.length && a.every((x, i) => x === b[i]);

describe("mutation fuzzing", () => {
  it("the server never throws and never accepts a mutated client-final", async () => {
    const rand = mulberry32(5802);
    const ctx = testContext(accounts);
    const client = SCRAM_SHA_256.client({ authcid: "alice", password: "correct horse" });
    const clientFirst = (await client.start())!;
    const first = await SCRAM_SHA_256.server.start(ctx, clientFirst);
    const reply = await client.step(bytes(challenge(first)));
    if (reply.kind !== "respond") throw new Error("client gave up");
    const state = viaJson(first.state);
    for (let i = 0; i < 300; i++) {
      const firstMutant = mutate(clientFirst, rand);
      const s1 = await SCRAM_SHA_256.server.start(ctx, firstMutant);
      expect(["more", "fail", "malformed"]).toContain(s1.status.kind);
      const finalMutant = mutate(reply.response, rand);
      if (same(finalMutant, reply.response)) continue;
      const s2 = await SCRAM_SHA_256.server.step(ctx, state, finalMutant);
      expect(["fail", "malformed"]).toContain(s2.status.kind);
    }
  });

  it("the client never throws and never calls a mutated server-final verified", async () => {
    const rand = mulberry32(7677);
    const ctx = testContext(accounts);
    const started = async () => {
      const client = SCRAM_SHA_256.client({ authcid: "alice", password: "correct horse" });
      const first = await SCRAM_SHA_256.server.start(ctx, await client.start());
      return { client, serverFirst: bytes(challenge(first)), state: viaJson(first.state) };
    };
    for (let i = 0; i < 60; i++) {
      const { client, serverFirst } = await started();
      expect(["respond", "fail"]).toContain((await client.step(mutate(serverFirst, rand))).kind);
    }
    for (let i = 0; i < 100; i++) {
      const { client, serverFirst, state } = await started();
      const answer = await client.step(serverFirst);
      if (answer.kind !== "respond") throw new Error("client gave up");
      const finished = await SCRAM_SHA_256.server.step(ctx, state, answer.response);
      if (finished.status.kind !== "done") throw new Error("exchange failed");
      const final = finished.status.final!;
      const mutant = mutate(final, rand);
      if (same(mutant, final)) continue;
      expect((await client.finish(mutant)).kind).toBe("fail");
    }
  });
});

describe("stand-in salt for unknown logins", () => {
  it("is keyed by the deployment's secret, so it cannot be recomputed from the code", async () => {
    const first = new TextEncoder().encode("n,,n=nobody,r=abcdefghijklmnop");
    const saltOf = async (secret?: Uint8Array) => {
      const ctx = testContext({}, secret ? { standInSecret: async () => secret } : {});
      const step = await SCRAM_SHA_256.server.start(ctx, first);
      if (step.status.kind !== "more") throw new Error(step.status.kind);
      return /s=([^,]+)/.exec(new TextDecoder().decode(step.status.challenge))?.[1];
    };
    const published = await saltOf();
    const keyed = await saltOf(new Uint8Array(32).fill(7));
    expect(keyed).not.toBe(published);
    expect(await saltOf(new Uint8Array(32).fill(7))).toBe(keyed); // stable per deployment
    expect(await saltOf(new Uint8Array(32).fill(8))).not.toBe(keyed);
  });
});
