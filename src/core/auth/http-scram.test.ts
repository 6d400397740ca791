import { describe, expect, it } from "vitest";
import { base64ToBytes, bytesToBase64 } from "../encoding/base64.ts";
import { runExchange, testContext } from "../sasl/memory-credentials.test-helper.ts";
import { nonceSource, RFC7677, RFC7804 } from "../sasl/scram.fixture.ts";
import { scramMechanism } from "../sasl/scram.ts";
import {
  formatScramAuthenticationInfo,
  formatScramChallenge,
  HTTP_SCRAM_LIMIT,
  parseScramAuthorization,
} from "./http-scram.ts";

const bytes = (text: string) => new TextEncoder().encode(text);
const text = (data: Uint8Array) => new TextDecoder().decode(data);
const data64 = (message: string) => bytesToBase64(bytes(message));

describe("RFC 7804 §5 example exchange", () => {
  it("parses the client's Authorization headers exactly as given", () => {
    expect(parseScramAuthorization(RFC7804.clientFirst)).toEqual({
      ok: true,
      scheme: "SCRAM-SHA-256",
      data: bytes(RFC7677.clientFirst),
      sid: null,
      realm: RFC7804.realm,
    });
    expect(parseScramAuthorization(RFC7804.clientFinal)).toEqual({
      ok: true,
      scheme: "SCRAM-SHA-256",
      data: bytes(RFC7677.clientFinal),
      sid: RFC7804.sid,
      realm: null,
    });
  });

  it("builds the offer, and the server headers whose data is the RFC's up to its trailing LF", () => {
    expect(formatScramChallenge("SCRAM-SHA-256", { realm: RFC7804.realm })).toBe(RFC7804.offer);
    // The RFC's base64 encodes each message plus an LF; fed the same bytes, we produce its strings.
    const withLf = (message: string) => bytes(`${message}\n`);
    expect(
      formatScramChallenge("SCRAM-SHA-256", { sid: RFC7804.sid, data: withLf(RFC7677.serverFirst) }),
    ).toBe(RFC7804.serverFirst);
    expect(formatScramAuthenticationInfo({ sid: RFC7804.sid, data: withLf(RFC7677.serverFinal) })).toBe(
      RFC7804.authenticationInfo,
    );
  });

  it("runs the example end to end through the SCRAM-SHA-256 server with the RFC's nonces", async () => {
    const server = scramMechanism({
      name: "SCRAM-SHA-256",
      hash: "SHA-256",
      plus: false,
      nonceLength: RFC7677.serverNonce.length,
    }).server;
    const ctx = testContext(
      { user: { password: "pencil", salt: base64ToBytes(RFC7677.salt), iterations: 4096 } },
      { random: nonceSource(RFC7677.serverNonce) },
    );
    const first = parseScramAuthorization(RFC7804.clientFirst);
    if (!first?.ok) throw new Error("client-first did not parse");
    const serverFirst = await server.start(ctx, first.data);
    if (serverFirst.status.kind !== "more") throw new Error("no server-first");
    const challenge = formatScramChallenge("SCRAM-SHA-256", {
      sid: RFC7804.sid,
      data: serverFirst.status.challenge,
    });
    expect(challenge).toBe(`SCRAM-SHA-256 sid=${RFC7804.sid}, data=${data64(RFC7677.serverFirst)}`);

    const final = parseScramAuthorization(RFC7804.clientFinal);
    if (!final?.ok) throw new Error("client-final did not parse");
    expect(final.sid).toBe(RFC7804.sid);
    const done = await server.step(ctx, JSON.parse(JSON.stringify(serverFirst.state)), final.data);
    if (done.status.kind !== "done") throw new Error(`not done: ${JSON.stringify(done.status)}`);
    expect(done.status.identity).toEqual({ authcid: "user", authzid: "user" });
    expect(formatScramAuthenticationInfo({ sid: RFC7804.sid, data: done.status.final! })).toBe(
      `sid=${RFC7804.sid}, data=${data64(RFC7677.serverFinal)}`,
    );
  });

  it("carries a whole client/server exchange built from our own headers", async () => {
    const spec = scramMechanism({ name: "SCRAM-SHA-256", hash: "SHA-256", plus: false });
    const client = spec.client({ authcid: "alice", password: "s3cret" });
    const ctx = testContext({ alice: { password: "s3cret" } });
    // The client side of the framing: what a browser-side library would send.
    const over = (message: Uint8Array, sid?: string) => {
      const parsed = parseScramAuthorization(
        `SCRAM-SHA-256 ${sid ? `sid=${sid}, ` : ""}data=${bytesToBase64(message)}`,
      );
      if (!parsed?.ok) throw new Error("did not parse");
      return parsed.data;
    };
    const wrapped = {
      start: async () => over((await client.start())!),
      step: async (challenge: Uint8Array) => {
        const reply = await client.step(challenge);
        return reply.kind === "respond" ? { ...reply, response: over(reply.response, "s1") } : reply;
      },
      finish: client.finish,
    };
    const result = await runExchange(spec.server, wrapped, ctx);
    expect(result.status.kind).toBe("done");
    expect(result.clientVerified).toBe(true);
  });
});

describe("parseScramAuthorization", () => {
  const good = data64("n,,n=user,r=abc");
  const cases: { name: string; header: string; want: unknown }[] = [
    {
      name: "lower-case scheme and names",
      header: `scram-sha-256 DATA=${good}, SID=x1`,
      want: { ok: true, sid: "x1" },
    },
    { name: "SCRAM-SHA-1", header: `SCRAM-SHA-1 data=${good}`, want: { ok: true, scheme: "SCRAM-SHA-1" } },
    { name: "sid before data", header: `SCRAM-SHA-256 sid=abc,data=${good}`, want: { ok: true, sid: "abc" } },
    {
      name: "whitespace around = and ,",
      header: `SCRAM-SHA-256   data = ${good} ,\tsid\t=\tq `,
      want: { ok: true, sid: "q" },
    },
    { name: "quoted data", header: `SCRAM-SHA-256 data="${good}"`, want: { ok: true } },
    {
      name: "quoted realm with escapes",
      header: `SCRAM-SHA-256 realm="a\\"b\\\\c", data=${good}`,
      want: { ok: true, realm: 'a"b\\c' },
    },
    {
      name: "realm with comma",
      header: `SCRAM-SHA-256 realm="a,b", data=${good}`,
      want: { ok: true, realm: "a,b" },
    },
    {
      name: "empty list elements",
      header: `SCRAM-SHA-256 , data=${good},, sid=z,`,
      want: { ok: true, sid: "z" },
    },
    { name: "unknown params ignored", header: `SCRAM-SHA-256 ttl=30, data=${good}`, want: { ok: true } },
    { name: "missing data", header: "SCRAM-SHA-256 sid=abc", want: { ok: false, reason: "missing data" } },
    { name: "no params", header: "SCRAM-SHA-256", want: { ok: false, reason: "missing data" } },
    {
      name: "duplicate data",
      header: `SCRAM-SHA-256 data=${good}, data=${good}`,
      want: { ok: false, reason: "duplicate data" },
    },
    {
      name: "duplicate in other case",
      header: `SCRAM-SHA-256 sid=a, data=${good}, SID=b`,
      want: { ok: false, reason: "duplicate sid" },
    },
    { name: "data not base64", header: "SCRAM-SHA-256 data=n,,n=user", want: { ok: false } },
    {
      name: "data without padding",
      header: "SCRAM-SHA-256 data=YWI",
      want: { ok: false, reason: "data is not base64" },
    },
    {
      name: "empty data",
      header: 'SCRAM-SHA-256 data=""',
      want: { ok: false, reason: "data is not base64" },
    },
    { name: "token68 form", header: `SCRAM-SHA-256 ${good}`, want: { ok: false } },
    { name: "unterminated quote", header: `SCRAM-SHA-256 realm="abc, data=${good}`, want: { ok: false } },
    { name: "junk after a value", header: `SCRAM-SHA-256 data=${good} sid=a`, want: { ok: false } },
    { name: "missing =", header: `SCRAM-SHA-256 data ${good}`, want: { ok: false } },
    { name: "CR LF injection", header: `SCRAM-SHA-256 data=${good}\r\nX-Evil: 1`, want: { ok: false } },
    {
      name: "NUL in quoted string",
      header: `SCRAM-SHA-256 realm="a\u0000", data=${good}`,
      want: { ok: false },
    },
  ];
  for (const { name, header, want } of cases) {
    it(name, () => expect(parseScramAuthorization(header)).toMatchObject(want as object));
  }

  it.each([
    null,
    undefined,
    "Basic dXNlcjpwYXNz",
    "SCRAM-SHA-256-PLUS data=biws",
    "SCRAM-SHA-2560 data=biws",
    "Bearer x",
  ])("leaves %j to other schemes (null)", (header) => expect(parseScramAuthorization(header)).toBeNull());

  it("refuses a header over the limit before decoding it", () => {
    const big = `SCRAM-SHA-256 data=${"A".repeat(HTTP_SCRAM_LIMIT)}`;
    expect(parseScramAuthorization(big)).toEqual({
      ok: false,
      reason: `header longer than ${HTTP_SCRAM_LIMIT} bytes`,
    });
    const room = HTTP_SCRAM_LIMIT - "SCRAM-SHA-256 data=".length;
    const fits = `SCRAM-SHA-256 data=${"A".repeat(room - (room % 4))}`;
    expect(parseScramAuthorization(fits)).toMatchObject({ ok: true });
  });

  it("drops only one trailing LF from the data (RFC 7804 §5's examples carry one)", () => {
    const parsed = parseScramAuthorization(`SCRAM-SHA-256 data=${data64("c=biws,r=a,p=AAAA\n\n")}`);
    expect(parsed?.ok && text(parsed.data)).toBe("c=biws,r=a,p=AAAA\n");
  });
});

describe("formatters", () => {
  it("refuses a sid that is not a token and a realm with control characters", () => {
    expect(() => formatScramChallenge("SCRAM-SHA-256", { sid: "a b" })).toThrow(TypeError);
    expect(() => formatScramAuthenticationInfo({ sid: "a,b", data: new Uint8Array(1) })).toThrow(TypeError);
    expect(() => formatScramChallenge("SCRAM-SHA-256", { realm: "a\r\nX: y" })).toThrow(TypeError);
  });

  it("quotes realms so the parser reads them back", () => {
    const header = formatScramChallenge("SCRAM-SHA-1", {
      realm: 'say "hi" \\ bye',
      sid: "s",
      data: bytes("r=x"),
    });
    expect(header).toBe('SCRAM-SHA-1 realm="say \\"hi\\" \\\\ bye", sid=s, data=cj14');
    // A challenge has the same auth-param syntax as credentials.
    expect(parseScramAuthorization(header)).toMatchObject({ ok: true, realm: 'say "hi" \\ bye', sid: "s" });
  });
});
