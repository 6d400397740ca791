import { describe, expect, it } from "vitest";
import { CRAM_MD5, cramMd5Digest } from "./cram-md5.ts";
import { runExchange, testContext } from "./memory-credentials.test-helper.ts";

const bytes = (text: string) => new TextEncoder().encode(text);
const text = (data: Uint8Array) => new TextDecoder().decode(data);

// RFC 2195 §2 (the challenge is base64 PDE4OTYuNjk3MTcwOTUyQHBvc3RvZmZpY2UucmVzdG9uLm1jaS5uZXQ+).
const RFC2195 = {
  challenge: "<1896.697170952@postoffice.reston.mci.net>",
  user: "tim",
  secret: "tanstaaftanstaaf",
  response: "tim b913a602c7eda7a495b4e6e7334d3890",
};

const accounts = {
  tim: { password: RFC2195.secret, sharedSecret: true },
  alice: { password: "correct horse", sharedSecret: true },
  bob: { password: "hunter2" }, // no shared secret: CRAM-MD5 is opt-in
};

// 1896 in 8 random octets, and the RFC's time, give the RFC's challenge.
const rfcContext = () =>
  testContext(accounts, {
    hostname: "postoffice.reston.mci.net",
    now: () => 697170952 * 1000 + 999,
    random: () => Uint8Array.of(0, 0, 0, 0, 0, 0, 0x07, 0x68),
  });

describe("CRAM-MD5, RFC 2195 §2 example", () => {
  it("computes the RFC digest", () => {
    expect(cramMd5Digest(RFC2195.secret, bytes(RFC2195.challenge))).toBe(RFC2195.response.slice(4));
  });

  it("sends the RFC challenge from ctx.random, ctx.now and ctx.hostname", async () => {
    const start = await CRAM_MD5.server.start(rfcContext(), null);
    expect(start.status.kind === "more" && text(start.status.challenge)).toBe(RFC2195.challenge);
  });

  it("server accepts the RFC response", async () => {
    const ctx = rfcContext();
    const start = await CRAM_MD5.server.start(ctx, null);
    const step = await CRAM_MD5.server.step(ctx, start.state ?? {}, bytes(RFC2195.response));
    expect(step.status).toEqual({ kind: "done", identity: { authcid: "tim", authzid: "tim" } });
  });

  it("client produces the RFC response", async () => {
    const client = CRAM_MD5.client({ authcid: "tim", password: RFC2195.secret });
    expect(await client.start()).toBeNull();
    const reply = await client.step(bytes(RFC2195.challenge));
    expect(reply.kind === "respond" && text(reply.response)).toBe(RFC2195.response);
  });

  it("accepts upper-case hex", async () => {
    const ctx = rfcContext();
    const start = await CRAM_MD5.server.start(ctx, null);
    const step = await CRAM_MD5.server.step(
      ctx,
      start.state ?? {},
      bytes(RFC2195.response.toUpperCase().replace("TIM", "tim")),
    );
    expect(step.status.kind).toBe("done");
  });
});

describe("CRAM-MD5 round trips", () => {
  const cases = [
    {
      name: "right secret",
      creds: { authcid: "alice", password: "correct horse" },
      want: { kind: "done", identity: { authcid: "alice", authzid: "alice" } },
    },
    {
      name: "wrong secret",
      creds: { authcid: "alice", password: "wrong" },
      want: { kind: "fail", reason: "authentication failure", login: "alice" },
    },
    {
      name: "unknown user",
      creds: { authcid: "mallory", password: "wrong" },
      want: { kind: "fail", reason: "authentication failure", login: "mallory" },
    },
    {
      name: "account without a shared secret",
      creds: { authcid: "bob", password: "hunter2" },
      want: { kind: "fail", reason: "authentication failure", login: "bob" },
    },
    {
      name: "user name with a space",
      creds: { authcid: "tim smith", password: "x" },
      want: { kind: "fail", login: "tim smith" },
    },
  ];
  for (const { name, creds, want } of cases) {
    it(name, async () => {
      const result = await runExchange(CRAM_MD5.server, CRAM_MD5.client(creds), testContext(accounts));
      expect(result.status).toEqual(expect.objectContaining(want));
    });
  }

  it("client refuses an authorization identity it cannot carry", async () => {
    const result = await runExchange(
      CRAM_MD5.server,
      CRAM_MD5.client({ authcid: "alice", authzid: "bob", password: "correct horse" }),
      testContext(accounts),
    );
    expect(result.status.kind).toBe("fail");
  });

  it("makes a new challenge each time", async () => {
    const ctx = testContext(accounts);
    const a = await CRAM_MD5.server.start(ctx, null);
    const b = await CRAM_MD5.server.start(ctx, null);
    expect(a.state?.challenge).not.toBe(b.state?.challenge);
    expect(String(a.state?.challenge)).toMatch(/^<\d+\.1700000000@postern\.test>$/);
  });

  it("still computes the HMAC when the account has no secret", async () => {
    const ctx = testContext(accounts);
    let asked = "";
    ctx.credentials.sharedSecret = async (login) => {
      asked = login;
      return null;
    };
    const start = await CRAM_MD5.server.start(ctx, null);
    const step = await CRAM_MD5.server.step(ctx, start.state ?? {}, bytes(`bob ${"0".repeat(32)}`));
    expect(asked).toBe("bob");
    expect(step.status).toEqual({ kind: "fail", reason: "authentication failure", login: "bob" });
  });

  it("turns a failing secret lookup into a temporary failure", async () => {
    const ctx = testContext(accounts);
    ctx.credentials.sharedSecret = () => Promise.reject(new Error("undecryptable"));
    const start = await CRAM_MD5.server.start(ctx, null);
    const step = await CRAM_MD5.server.step(ctx, start.state ?? {}, bytes(`alice ${"0".repeat(32)}`));
    expect(step.status).toMatchObject({ kind: "temp", login: "alice" });
  });
});

describe("CRAM-MD5 malformed responses", () => {
  const cases: { name: string; input: string | Uint8Array; want: object }[] = [
    { name: "initial response", input: "", want: { kind: "malformed" } },
    { name: "no space", input: "tim", want: { kind: "malformed", reason: "expected user SP digest" } },
    {
      name: "empty user",
      input: ` ${"0".repeat(32)}`,
      want: { kind: "malformed", reason: "empty user name" },
    },
    { name: "short digest", input: "tim abc", want: { kind: "malformed", login: "tim" } },
    { name: "non-hex digest", input: `tim ${"g".repeat(32)}`, want: { kind: "malformed", login: "tim" } },
    { name: "trailing space", input: `tim ${"0".repeat(32)} `, want: { kind: "malformed" } },
    {
      name: "NUL in user",
      input: `ti\0m ${"0".repeat(32)}`,
      want: { kind: "malformed", reason: "unusable user name" },
    },
    {
      name: "user over 255 octets",
      input: `${"u".repeat(256)} ${"0".repeat(32)}`,
      want: { kind: "malformed" },
    },
    {
      name: "invalid UTF-8",
      input: Uint8Array.of(0xff, 0x20, 0x30),
      want: { kind: "malformed", reason: "response is not UTF-8" },
    },
  ];
  for (const { name, input, want } of cases) {
    it(name, async () => {
      const ctx = testContext(accounts);
      const message = typeof input === "string" ? bytes(input) : input;
      const step =
        name === "initial response"
          ? await CRAM_MD5.server.start(ctx, message)
          : await CRAM_MD5.server.step(ctx, (await CRAM_MD5.server.start(ctx, null)).state ?? {}, message);
      expect(step.status).toMatchObject(want);
    });
  }
});
