import { describe, expect, it } from "vitest";
import type { SaslServerContext } from "./mechanism.ts";
import { runExchange, testContext } from "./memory-credentials.test-helper.ts";
import { PLAIN, parsePlainMessage, plainMessage } from "./plain.ts";

const bytes = (text: string) => new TextEncoder().encode(text);
const text = (data: Uint8Array) => new TextDecoder().decode(data);

// RFC 4616 §4: tim logs in; Kurt asks to act as Ursel and is not authorized.
const RFC4616 = {
  tim: "\0tim\0tanstaaftanstaaf",
  kurtAsUrsel: "Ursel\0Kurt\0xipj3plmq",
};

const accounts = {
  tim: { password: "tanstaaftanstaaf" },
  Kurt: { password: "xipj3plmq" },
  alice: { password: "correct horse", mayActAs: ["shared"] },
};

async function once(message: string | Uint8Array, ctx: SaslServerContext = testContext(accounts)) {
  const step = await PLAIN.server.start(ctx, typeof message === "string" ? bytes(message) : message);
  return step.status;
}

describe("PLAIN server, RFC 4616 §4 examples", () => {
  it("authenticates tim", async () => {
    expect(await once(RFC4616.tim)).toEqual({ kind: "done", identity: { authcid: "tim", authzid: "tim" } });
  });

  it("refuses Kurt acting as Ursel, after checking his password", async () => {
    expect(await once(RFC4616.kurtAsUrsel)).toMatchObject({ kind: "fail", login: "Kurt" });
  });

  it("asks for the message with an empty challenge when the client sent none", async () => {
    const ctx = testContext(accounts);
    for (const initial of [null, new Uint8Array()]) {
      const start = await PLAIN.server.start(ctx, initial);
      expect(start.status).toEqual({ kind: "more", challenge: new Uint8Array() });
      const step = await PLAIN.server.step(ctx, start.state ?? {}, bytes(RFC4616.tim));
      expect(step.status).toMatchObject({ kind: "done", identity: { authcid: "tim" } });
    }
  });

  it("treats an empty response to the empty challenge as malformed, not as another round", async () => {
    const ctx = testContext(accounts);
    const step = await PLAIN.server.step(ctx, {}, new Uint8Array());
    expect(step.status.kind).toBe("malformed");
  });
});

describe("parsePlainMessage", () => {
  const long = "x".repeat(256);
  const cases: { name: string; input: string | Uint8Array; want: object }[] = [
    {
      name: "no authzid",
      input: "\0u\0p",
      want: { ok: true, value: { authzid: "", authcid: "u", password: "p" } },
    },
    {
      name: "authzid",
      input: "z\0u\0p",
      want: { ok: true, value: { authzid: "z", authcid: "u", password: "p" } },
    },
    {
      name: "UTF-8 fields",
      input: "\0j\u00fcrgen\0p\u00e4ss",
      want: { ok: true, value: { authcid: "j\u00fcrgen" } },
    },
    {
      name: "255-octet fields",
      input: `${"z".repeat(255)}\0${"u".repeat(255)}\0${"p".repeat(255)}`,
      want: { ok: true },
    },
    { name: "one NUL", input: "u\0p", want: { ok: false } },
    { name: "no NUL", input: "up", want: { ok: false } },
    {
      name: "three NULs (NUL in password)",
      input: "\0u\0p\0q",
      want: { ok: false, reason: "expected authzid NUL authcid NUL password" },
    },
    { name: "empty authcid", input: "z\0\0p", want: { ok: false, reason: "empty authcid" } },
    { name: "empty password", input: "\0u\0", want: { ok: false, login: "u" } },
    { name: "authcid over 255 octets", input: `\0${long}\0p`, want: { ok: false, login: long } },
    { name: "authzid over 255 octets", input: `${long}\0u\0p`, want: { ok: false, login: "u" } },
    { name: "password over 255 octets", input: `\0u\0${long}`, want: { ok: false, login: "u" } },
    // 128 two-octet characters: 128 characters but 256 octets.
    { name: "limit counts octets", input: `\0u\0${"\u00e9".repeat(128)}`, want: { ok: false, login: "u" } },
    {
      name: "invalid UTF-8 authcid",
      input: Uint8Array.of(0, 0xff, 0, 0x70),
      want: { ok: false, reason: "authcid is not UTF-8" },
    },
    {
      name: "invalid UTF-8 password",
      input: Uint8Array.of(0, 0x75, 0, 0xc3),
      want: { ok: false, login: "u" },
    },
    {
      name: "invalid UTF-8 authzid",
      input: Uint8Array.of(0xc3, 0, 0x75, 0, 0x70),
      want: { ok: false, login: "u" },
    },
  ];
  for (const { name, input, want } of cases) {
    it(name, () => {
      expect(parsePlainMessage(typeof input === "string" ? bytes(input) : input)).toMatchObject(want);
    });
  }
});

describe("PLAIN round trips", () => {
  const cases = [
    {
      name: "right password",
      creds: { authcid: "alice", password: "correct horse" },
      want: { kind: "done", identity: { authcid: "alice", authzid: "alice" } },
    },
    {
      name: "wrong password",
      creds: { authcid: "alice", password: "wrong" },
      want: { kind: "fail", reason: "authentication failure", login: "alice" },
    },
    {
      name: "unknown user",
      creds: { authcid: "mallory", password: "wrong" },
      want: { kind: "fail", reason: "authentication failure", login: "mallory" },
    },
    {
      name: "authzid allowed",
      creds: { authcid: "alice", authzid: "shared", password: "correct horse" },
      want: { kind: "done", identity: { authcid: "alice", authzid: "shared" } },
    },
    {
      name: "authzid equal to authcid",
      creds: { authcid: "alice", authzid: "alice", password: "correct horse" },
      want: { kind: "done", identity: { authcid: "alice", authzid: "alice" } },
    },
    {
      name: "authzid refused",
      creds: { authcid: "alice", authzid: "tim", password: "correct horse" },
      want: { kind: "fail", reason: "not authorized to act as tim", login: "alice" },
    },
    {
      name: "authzid with a wrong password",
      creds: { authcid: "alice", authzid: "shared", password: "wrong" },
      want: { kind: "fail", reason: "authentication failure", login: "alice" },
    },
  ];
  for (const { name, creds, want } of cases) {
    it(name, async () => {
      const result = await runExchange(PLAIN.server, PLAIN.client(creds), testContext(accounts));
      expect(result.status).toEqual(want);
      expect(result.steps).toBe(1); // the initial response carries everything
    });
  }

  it("answers an empty challenge once when the initial response was not sent", async () => {
    const client = PLAIN.client({ authcid: "alice", password: "correct horse" });
    const first = await client.step(new Uint8Array());
    expect(first.kind === "respond" && text(first.response)).toBe("\0alice\0correct horse");
    expect((await client.step(new Uint8Array())).kind).toBe("fail");
  });

  it("sends nothing for credentials PLAIN cannot carry", async () => {
    for (const creds of [
      { authcid: "alice", password: "" },
      { authcid: "", password: "x" },
      { authcid: "ali\0ce", password: "x" },
      { authcid: "alice", password: "p".repeat(256) },
    ]) {
      expect(plainMessage(creds).ok).toBe(false);
      const client = PLAIN.client(creds);
      expect(await client.start()).toBeNull();
      expect((await client.step(new Uint8Array())).kind).toBe("fail");
    }
  });
});

describe("PLAIN back end", () => {
  it("turns a failing credential store into a temporary failure", async () => {
    const ctx = testContext(accounts);
    ctx.credentials.verifyPassword = () => Promise.reject(new Error("D1 unavailable"));
    expect(await once(RFC4616.tim, ctx)).toEqual({
      kind: "temp",
      reason: "password check unavailable",
      login: "tim",
    });
  });

  it("turns a failing authorization lookup into a temporary failure", async () => {
    const ctx = testContext(accounts, { mayActAs: () => Promise.reject(new Error("down")) });
    expect(await once("shared\0alice\0correct horse", ctx)).toMatchObject({ kind: "temp", login: "alice" });
  });

  it("checks the canonical login and reports it", async () => {
    const ctx = testContext(accounts, { canonicalLogin: (login) => login.toLowerCase() });
    expect(await once("\0ALICE\0correct horse", ctx)).toMatchObject({
      kind: "done",
      identity: { authcid: "alice" },
    });
  });

  it("fails a login the context finds unusable without asking the store", async () => {
    const ctx = testContext(accounts, { canonicalLogin: () => null });
    ctx.credentials.verifyPassword = () => Promise.reject(new Error("must not be called"));
    expect(await once(RFC4616.tim, ctx)).toMatchObject({ kind: "fail", login: "tim" });
  });
});
