import { describe, expect, it } from "vitest";
import { DIGEST_MD5, digestMd5Response } from "./digest-md5.ts";
import type { SaslServerContext } from "./mechanism.ts";
import { runExchange, testContext } from "./memory-credentials.test-helper.ts";

const bytes = (text: string) => new TextEncoder().encode(text);
const text = (data: Uint8Array) => new TextDecoder().decode(data);

// RFC 2831 §4, the IMAP example (chris / secret).
const RFC2831 = {
  challenge: 'realm="elwood.innosoft.com",nonce="OA6MG9tEQGm2hh",qop="auth",algorithm=md5-sess,charset=utf-8',
  response:
    'charset=utf-8,username="chris",realm="elwood.innosoft.com",nonce="OA6MG9tEQGm2hh",nc=00000001,' +
    'cnonce="OA6MHXh6VqTrRk",digest-uri="imap/elwood.innosoft.com",' +
    "response=d388dad90d4bbd760a152321f2143af7,qop=auth",
  rspauth: "rspauth=ea40f60335c427b5527b84dbabcdfffd",
};

const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
/** The octets that the nonce encoding turns into `text`. */
const randomFor = (text: string) => () => Uint8Array.from(text, (char) => ALPHABET.indexOf(char));

const accounts = {
  chris: { password: "secret", sharedSecret: true },
  alice: { password: "correct horse", sharedSecret: true, mayActAs: ["shared"] },
  "j\u00fcrgen": { password: "gr\u00fc\u00dfe", sharedSecret: true },
  "\u674e": { password: "\u5bc6\u7801", sharedSecret: true },
  bob: { password: "hunter2" }, // no shared secret
};

const rfcContext = () =>
  testContext(accounts, {
    hostname: "elwood.innosoft.com",
    service: "imap",
    random: randomFor("OA6MG9tEQGm2hh"),
  });

describe("DIGEST-MD5, RFC 2831 §4 example", () => {
  it("computes the RFC response and rspauth", () => {
    expect(
      digestMd5Response({
        username: "chris",
        realm: "elwood.innosoft.com",
        password: "secret",
        nonce: "OA6MG9tEQGm2hh",
        cnonce: "OA6MHXh6VqTrRk",
        nc: "00000001",
        qop: "auth",
        digestUri: "imap/elwood.innosoft.com",
        authzid: null,
      }),
    ).toEqual({ response: "d388dad90d4bbd760a152321f2143af7", rspauth: "ea40f60335c427b5527b84dbabcdfffd" });
  });

  it("replays the whole exchange octet for octet", async () => {
    const ctx = rfcContext();
    const client = DIGEST_MD5.client(
      { authcid: "chris", password: "secret", service: "imap", host: "elwood.innosoft.com" },
      randomFor("OA6MHXh6VqTrRk"),
    );
    const start = await DIGEST_MD5.server.start(ctx, null);
    expect(start.status.kind === "more" && text(start.status.challenge)).toBe(RFC2831.challenge);
    const reply = await client.step(bytes(RFC2831.challenge));
    expect(reply.kind === "respond" && text(reply.response)).toBe(RFC2831.response);
    const proof = await DIGEST_MD5.server.step(ctx, start.state ?? {}, bytes(RFC2831.response));
    expect(proof.status.kind === "more" && text(proof.status.challenge)).toBe(RFC2831.rspauth);
    const ack = await client.step(bytes(RFC2831.rspauth));
    expect(ack).toEqual({ kind: "respond", response: new Uint8Array() });
    const done = await DIGEST_MD5.server.step(ctx, proof.state ?? {}, new Uint8Array());
    expect(done.status).toEqual({ kind: "done", identity: { authcid: "chris", authzid: "chris" } });
    expect(await client.finish(null)).toEqual({ kind: "done", verified: true });
  });
});

describe("DIGEST-MD5 round trips", () => {
  const creds = (authcid: string, password: string, authzid?: string) => ({
    authcid,
    password,
    authzid,
    host: "postern.test",
  });
  const cases = [
    {
      name: "right secret",
      creds: creds("alice", "correct horse"),
      want: { kind: "done", identity: { authcid: "alice", authzid: "alice" } },
      verified: true,
    },
    {
      name: "ISO 8859-1 user and password",
      creds: creds("j\u00fcrgen", "gr\u00fc\u00dfe"),
      want: { kind: "done", identity: { authcid: "j\u00fcrgen" } },
      verified: true,
    },
    {
      name: "user and password beyond ISO 8859-1",
      creds: creds("\u674e", "\u5bc6\u7801"),
      want: { kind: "done", identity: { authcid: "\u674e" } },
      verified: true,
    },
    {
      name: "authzid allowed",
      creds: creds("alice", "correct horse", "shared"),
      want: { kind: "done", identity: { authcid: "alice", authzid: "shared" } },
      verified: true,
    },
    {
      name: "authzid refused",
      creds: creds("alice", "correct horse", "chris"),
      want: { kind: "fail", reason: "not authorized to act as chris", login: "alice" },
      verified: null,
    },
    {
      name: "wrong secret",
      creds: creds("alice", "wrong"),
      want: { kind: "fail", reason: "authentication failure", login: "alice" },
      verified: null,
    },
    {
      name: "unknown user",
      creds: creds("mallory", "wrong"),
      want: { kind: "fail", reason: "authentication failure", login: "mallory" },
      verified: null,
    },
    {
      name: "account without a shared secret",
      creds: creds("bob", "hunter2"),
      want: { kind: "fail", reason: "authentication failure", login: "bob" },
      verified: null,
    },
  ];
  for (const { name, creds: c, want, verified } of cases) {
    it(name, async () => {
      const result = await runExchange(DIGEST_MD5.server, DIGEST_MD5.client(c), testContext(accounts));
      expect(result.status).toMatchObject(want);
      expect(result.clientVerified).toBe(verified);
    });
  }

  it("takes the digest-uri host from the realm when the client has none", async () => {
    const result = await runExchange(
      DIGEST_MD5.server,
      DIGEST_MD5.client({ authcid: "alice", password: "correct horse" }),
      testContext(accounts),
    );
    expect(result.status.kind).toBe("done");
  });

  it("the client refuses a forged rspauth", async () => {
    const client = DIGEST_MD5.client({
      authcid: "chris",
      password: "secret",
      host: "elwood.innosoft.com",
      service: "imap",
    });
    await client.step(bytes(RFC2831.challenge));
    expect((await client.step(bytes(`rspauth=${"0".repeat(32)}`))).kind).toBe("fail");
  });

  it("the client checks an rspauth sent with the success reply", async () => {
    const client = DIGEST_MD5.client(
      { authcid: "chris", password: "secret", host: "elwood.innosoft.com", service: "imap" },
      randomFor("OA6MHXh6VqTrRk"),
    );
    await client.step(bytes(RFC2831.challenge));
    expect(await client.finish(bytes(RFC2831.rspauth))).toEqual({ kind: "done", verified: true });
  });

  it("the client refuses challenges it cannot answer", async () => {
    const challenges = [
      'realm="x",qop="auth",algorithm=md5-sess', // no nonce
      'nonce="n",qop="auth-conf",algorithm=md5-sess', // no qop=auth
      'nonce="n",qop="auth"', // no algorithm=md5-sess
      'nonce="n",nonce="m",algorithm=md5-sess', // duplicate
      `nonce="${"n".repeat(2048)}",algorithm=md5-sess`, // over 2047 octets
      'nonce="n",algorithm=md5-sess', // no realm and no host for digest-uri
    ];
    for (const challenge of challenges) {
      const client = DIGEST_MD5.client({ authcid: "alice", password: "x" });
      expect((await client.step(bytes(challenge))).kind, challenge).toBe("fail");
    }
  });

  it("the client speaks ISO 8859-1 when the server offers no charset", async () => {
    const client = DIGEST_MD5.client({ authcid: "j\u00fcrgen", password: "p", host: "h" }, randomFor("abc"));
    const reply = await client.step(bytes('nonce="n",algorithm=md5-sess'));
    expect(reply.kind === "respond" && Array.from(reply.response.subarray(0, 17))).toEqual(
      Array.from('username="j\u00fcrgen"', (c) => c.charCodeAt(0)),
    );
    const beyond = DIGEST_MD5.client({ authcid: "\u674e", password: "p", host: "h" });
    expect((await beyond.step(bytes('nonce="n",algorithm=md5-sess'))).kind).toBe("fail");
  });
});

/** Runs the server against the RFC response with one directive list changed. */
async function rfcVariant(response: string, ctx: SaslServerContext = rfcContext()) {
  const start = await DIGEST_MD5.server.start(ctx, null);
  return (await DIGEST_MD5.server.step(ctx, start.state ?? {}, bytes(response))).status;
}

describe("DIGEST-MD5 server checks", () => {
  const replace = (from: string, to: string) => RFC2831.response.replace(from, to);
  const cases: { name: string; response: string; want: object }[] = [
    { name: "the RFC response", response: RFC2831.response, want: { kind: "more" } },
    {
      name: "directives in another order, with spaces",
      response: `qop=auth, response=d388dad90d4bbd760a152321f2143af7, ${RFC2831.response.replace(",response=d388dad90d4bbd760a152321f2143af7,qop=auth", "")}`,
      want: { kind: "more" },
    },
    { name: "unknown directive ignored", response: `${RFC2831.response},x-ext="1"`, want: { kind: "more" } },
    { name: "qop omitted means auth", response: replace(",qop=auth", ""), want: { kind: "more" } },
    {
      name: "upper-case hex response",
      response: replace("d388dad90d4bbd760a152321f2143af7", "D388DAD90D4BBD760A152321F2143AF7"),
      want: { kind: "more" },
    },
    {
      name: "duplicate directive",
      response: `${RFC2831.response},nc=00000001`,
      want: { kind: "malformed", reason: "duplicate nc directive" },
    },
    {
      name: "unbalanced quotes",
      response: replace('cnonce="OA6MHXh6VqTrRk"', 'cnonce="OA6MHXh6VqTrRk'),
      want: { kind: "malformed" },
    },
    {
      name: "missing username",
      response: replace('username="chris",', ""),
      want: { kind: "malformed", reason: "missing username directive" },
    },
    {
      name: "missing nonce",
      response: replace('nonce="OA6MG9tEQGm2hh",', ""),
      want: { kind: "malformed", reason: "missing nonce directive" },
    },
    {
      name: "missing cnonce",
      response: replace('cnonce="OA6MHXh6VqTrRk",', ""),
      want: { kind: "malformed" },
    },
    { name: "missing nc", response: replace("nc=00000001,", ""), want: { kind: "malformed" } },
    {
      name: "missing digest-uri",
      response: replace('digest-uri="imap/elwood.innosoft.com",', ""),
      want: { kind: "malformed" },
    },
    {
      name: "missing response",
      response: replace("response=d388dad90d4bbd760a152321f2143af7,", ""),
      want: { kind: "malformed" },
    },
    {
      name: "other charset",
      response: replace("charset=utf-8", "charset=iso-8859-1"),
      want: { kind: "malformed" },
    },
    {
      name: "qop=auth-int refused",
      response: replace("qop=auth", "qop=auth-int"),
      want: { kind: "fail", reason: "qop=auth-int was not offered", login: "chris" },
    },
    {
      name: "qop=auth-conf refused",
      response: replace("qop=auth", "qop=auth-conf"),
      want: { kind: "fail", login: "chris" },
    },
    {
      name: "unknown qop",
      response: replace("qop=auth", "qop=auth-other"),
      want: { kind: "malformed", login: "chris" },
    },
    {
      name: "cipher with qop=auth",
      response: `${RFC2831.response},cipher=rc4`,
      want: { kind: "malformed", login: "chris" },
    },
    { name: "bad nc", response: replace("nc=00000001", "nc=1"), want: { kind: "malformed", login: "chris" } },
    {
      name: "bad response hex",
      response: replace("d388dad90d4bbd760a152321f2143af7", "xyz"),
      want: { kind: "malformed", login: "chris" },
    },
    {
      name: "empty username",
      response: replace('username="chris"', 'username=""'),
      want: { kind: "malformed", reason: "empty username" },
    },
    {
      name: "wrong response",
      response: replace("d388dad90d4bbd760a152321f2143af7", "d388dad90d4bbd760a152321f2143af8"),
      want: { kind: "fail", reason: "authentication failure", login: "chris" },
    },
    {
      name: "nc other than 1",
      response: replace("nc=00000001", "nc=00000002"),
      want: { kind: "fail", login: "chris" },
    },
    {
      name: "other nonce",
      response: replace('nonce="OA6MG9tEQGm2hh"', 'nonce="OA6MG9tEQGm2hX"'),
      want: { kind: "fail", reason: "nonce does not match the challenge" },
    },
    {
      name: "other realm",
      response: replace('realm="elwood.innosoft.com"', 'realm="evil.example"'),
      want: { kind: "fail", reason: "realm was not offered" },
    },
    {
      name: "other service",
      response: replace("imap/elwood", "smtp/elwood"),
      want: { kind: "fail", reason: "digest-uri is not imap/elwood.innosoft.com" },
    },
    {
      name: "other host",
      response: replace("imap/elwood.innosoft.com", "imap/evil.example"),
      want: { kind: "fail" },
    },
    {
      name: "serv-name other than the host",
      response: replace("imap/elwood.innosoft.com", "imap/elwood.innosoft.com/other"),
      want: { kind: "fail" },
    },
    { name: "no host", response: replace("imap/elwood.innosoft.com", "imap"), want: { kind: "fail" } },
    {
      name: "too many parts",
      response: replace("imap/elwood.innosoft.com", "imap/elwood.innosoft.com/elwood.innosoft.com/x"),
      want: { kind: "fail" },
    },
    {
      name: "over 4095 octets",
      response: `${RFC2831.response},x="${"a".repeat(4096)}"`,
      want: { kind: "malformed" },
    },
  ];
  for (const { name, response, want } of cases) {
    it(name, async () => expect(await rfcVariant(response)).toMatchObject(want));
  }

  it("matches digest-uri host case-insensitively", async () => {
    // The response hashes the digest-uri as sent, so a case change needs a matching response.
    const ctx = testContext(accounts, { hostname: "Postern.Test" });
    const result = await runExchange(
      DIGEST_MD5.server,
      DIGEST_MD5.client({ authcid: "alice", password: "correct horse", host: "postern.test" }),
      ctx,
    );
    expect(result.status.kind).toBe("done");
  });

  it("reads username and realm as ISO 8859-1 when the client sends no charset", async () => {
    const hashes = digestMd5Response({
      username: "j\u00fcrgen",
      realm: "elwood.innosoft.com",
      password: "gr\u00fc\u00dfe",
      nonce: "OA6MG9tEQGm2hh",
      cnonce: "c",
      nc: "00000001",
      qop: "auth",
      digestUri: "imap/elwood.innosoft.com",
      authzid: null,
    });
    const message =
      'username="j\u00fcrgen",realm="elwood.innosoft.com",nonce="OA6MG9tEQGm2hh",nc=00000001,cnonce="c",' +
      `digest-uri="imap/elwood.innosoft.com",response=${hashes.response}`;
    const latin1 = Uint8Array.from(message, (c) => c.charCodeAt(0));
    const ctx = rfcContext();
    const start = await DIGEST_MD5.server.start(ctx, null);
    const step = await DIGEST_MD5.server.step(ctx, start.state ?? {}, latin1);
    expect(step.status).toEqual({ kind: "more", challenge: bytes(`rspauth=${hashes.rspauth}`) });
    // The same octets under charset=utf-8 are not UTF-8.
    const utf8 = Uint8Array.from(`charset=utf-8,${message}`, (c) => c.charCodeAt(0));
    const refused = await DIGEST_MD5.server.step(ctx, start.state ?? {}, utf8);
    expect(refused.status).toMatchObject({ kind: "malformed", reason: "username is not UTF-8" });
  });

  it("refuses an initial response", async () => {
    expect((await DIGEST_MD5.server.start(rfcContext(), bytes(RFC2831.response))).status.kind).toBe(
      "malformed",
    );
  });

  it("wants an empty answer to rspauth", async () => {
    const step = await DIGEST_MD5.server.step(
      rfcContext(),
      { stage: "rspauth", authcid: "chris", authzid: "chris" },
      bytes("x"),
    );
    expect(step.status).toMatchObject({ kind: "malformed", login: "chris" });
  });

  it("fails on a state it did not make", async () => {
    for (const state of [{}, { stage: "response" }, { stage: "rspauth", authcid: "chris" }]) {
      expect((await DIGEST_MD5.server.step(rfcContext(), state, new Uint8Array())).status.kind).toBe("fail");
    }
  });

  it("still hashes when the account has no secret, and fails the same way", async () => {
    const ctx = rfcContext();
    let asked = "";
    ctx.credentials.sharedSecret = async (login) => {
      asked = login;
      return null;
    };
    expect(await rfcVariant(RFC2831.response, ctx)).toEqual({
      kind: "fail",
      reason: "authentication failure",
      login: "chris",
    });
    expect(asked).toBe("chris");
  });

  it("turns a failing secret lookup into a temporary failure", async () => {
    const ctx = rfcContext();
    ctx.credentials.sharedSecret = () => Promise.reject(new Error("down"));
    expect(await rfcVariant(RFC2831.response, ctx)).toMatchObject({ kind: "temp", login: "chris" });
  });

  it("offers a fresh nonce of 24 base64 characters each time", async () => {
    const ctx = testContext(accounts);
    const a = await DIGEST_MD5.server.start(ctx, null);
    const b = await DIGEST_MD5.server.start(ctx, null);
    expect(String(a.state?.nonce)).toMatch(/^[A-Za-z0-9+/]{24}$/);
    expect(a.state?.nonce).not.toBe(b.state?.nonce);
  });
});
