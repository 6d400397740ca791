// Every SASL mechanism through the HTTP SASL endpoint (stateless, sealed continuations) and the
// HTTP credential schemes (Basic = PLAIN, Bearer, SCRAM-SHA-256 per RFC 7804), with Postfix's
// mechanism policy deciding what is offered and accepted.
import { exports } from "cloudflare:workers";
import { exportJWK, generateKeyPair, SignJWT } from "jose";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { findMechanism } from "../../src/core/sasl/mechanisms.ts";
import { admin, call, resetParameters, saslExchange, setParameters, submitJson } from "./helpers.ts";

const PASSWORD = "sasl test password 1";
let n = 0;

async function account(options: { sharedSecret?: boolean; senders?: string[] } = {}) {
  const login = `sasl${++n}-${crypto.randomUUID().slice(0, 6)}@example.com`;
  const res = await admin("POST", "/accounts", {
    login,
    password: PASSWORD,
    shared_secret: options.sharedSecret ?? false,
  });
  expect(res.status).toBe(201);
  for (const sender of options.senders ?? []) {
    await admin("PUT", `/maps/sender_login/${encodeURIComponent(sender)}`, { value: login });
  }
  return login;
}

function client(
  mechanism: string,
  credentials: Parameters<NonNullable<ReturnType<typeof findMechanism>>["client"]>[0],
) {
  const spec = findMechanism(mechanism);
  if (!spec) throw new Error(`no ${mechanism}`);
  return spec.client({ service: "smtp", host: "postern.localdomain", ...credentials });
}

const message = (from: string) => ({ from, to: ["r@example.net"], subject: "s", text: "x" });

describe("the SASL endpoint", () => {
  afterEach(() =>
    resetParameters([
      "smtpd_sasl_security_options",
      "smtpd_sasl_tls_security_options",
      "mech_list",
      "smtpd_sasl_mechanism_filter",
      "postern_jwt_issuers",
    ]),
  );

  it("offers what policy allows on the transport: no plaintext without TLS, never ANONYMOUS by default", async () => {
    const https = await (await call("/v1/auth/sasl")).json<{ mechanisms: string[] }>();
    expect(https.mechanisms).toEqual(
      expect.arrayContaining([
        "SCRAM-SHA-256",
        "SCRAM-SHA-1",
        "DIGEST-MD5",
        "CRAM-MD5",
        "OAUTHBEARER",
        "XOAUTH2",
        "PLAIN",
        "LOGIN",
      ]),
    );
    expect(https.mechanisms).not.toContain("ANONYMOUS");
    expect(https.mechanisms).not.toContain("EXTERNAL");
    expect(https.mechanisms).not.toContain("SCRAM-SHA-256-PLUS");
    const plain = await (
      await exports.default.fetch(new Request("http://postern.example/v1/auth/sasl"))
    ).json<{ mechanisms: string[] }>();
    expect(plain.mechanisms).toContain("SCRAM-SHA-256");
    for (const name of ["PLAIN", "LOGIN", "OAUTHBEARER", "XOAUTH2"])
      expect(plain.mechanisms).not.toContain(name);
  });

  it.each(["SCRAM-SHA-256", "SCRAM-SHA-1", "PLAIN", "LOGIN", "CRAM-MD5", "DIGEST-MD5"])(
    "%s: succeeds with the right password, fails alike for a wrong one and an unknown login",
    async (mechanism) => {
      const login = await account({ sharedSecret: true });
      const ok = await saslExchange(client(mechanism, { authcid: login, password: PASSWORD }), mechanism);
      expect(ok.status, JSON.stringify(ok.body)).toBe(200);
      expect(ok.body).toMatchObject({ status: "authenticated", login, mechanism, token_type: "Bearer" });
      if (mechanism.startsWith("SCRAM") || mechanism === "DIGEST-MD5") expect(ok.serverVerified).toBe(true);

      const wrong = await saslExchange(
        client(mechanism, { authcid: login, password: "not the password" }),
        mechanism,
      );
      const unknown = await saslExchange(
        client(mechanism, { authcid: `x${login}`, password: PASSWORD }),
        mechanism,
      );
      expect(wrong.status).toBe(401);
      expect(unknown.status).toBe(401);
      expect(wrong.body).toEqual(unknown.body);
      expect(wrong.steps).toBe(unknown.steps);
      expect(wrong.body).toMatchObject({ smtp_status: "5.7.8" });
    },
  );

  it("CRAM-MD5 and DIGEST-MD5 fail for an account that did not opt in to a shared secret", async () => {
    const login = await account({ sharedSecret: false });
    for (const mechanism of ["CRAM-MD5", "DIGEST-MD5"]) {
      const res = await saslExchange(client(mechanism, { authcid: login, password: PASSWORD }), mechanism);
      expect(res.status, mechanism).toBe(401);
    }
  });

  it("a session token from the endpoint authenticates submissions as Bearer", async () => {
    const login = await account({ senders: ["bearer-user@example.com"] });
    const ok = await saslExchange(
      client("SCRAM-SHA-256", { authcid: login, password: PASSWORD }),
      "SCRAM-SHA-256",
    );
    const token = ok.body.token as string;
    const res = await submitJson(`Bearer ${token}`, message("bearer-user@example.com"));
    expect(res.status).toBe(202);
    const tampered = await submitJson(`Bearer ${token.slice(0, -2)}xx`, message("bearer-user@example.com"));
    expect(tampered.status).toBe(401);
  });

  it("a disabled account cannot authenticate with any mechanism, nor use an earlier token", async () => {
    const login = await account({ sharedSecret: true, senders: ["gone-user@example.com"] });
    const ok = await saslExchange(client("PLAIN", { authcid: login, password: PASSWORD }), "PLAIN");
    await admin("PATCH", `/accounts/${encodeURIComponent(login)}`, { disabled: true });
    for (const mechanism of ["SCRAM-SHA-256", "PLAIN", "CRAM-MD5"]) {
      expect(
        (await saslExchange(client(mechanism, { authcid: login, password: PASSWORD }), mechanism)).status,
      ).toBe(401);
    }
    expect((await submitJson(`Bearer ${ok.body.token}`, message("gone-user@example.com"))).status).toBe(401);
  });

  it("PLAIN with another authorization identity is refused unless postern_sasl_authz_maps allows it", async () => {
    const login = await account();
    const other = await account();
    const refused = await saslExchange(
      client("PLAIN", { authcid: login, authzid: other, password: PASSWORD }),
      "PLAIN",
    );
    expect(refused.status).toBe(401);
    await admin("PUT", `/maps/sasl_authz/${encodeURIComponent(login)}`, { value: other });
    const allowed = await saslExchange(
      client("PLAIN", { authcid: login, authzid: other, password: PASSWORD }),
      "PLAIN",
    );
    expect(allowed.body).toMatchObject({ status: "authenticated", login: other });
  });

  it("refuses a mechanism policy removed: neither offered nor accepted", async () => {
    const login = await account();
    await setParameters({ mech_list: "SCRAM-SHA-256" });
    const offered = await (await call("/v1/auth/sasl")).json<{ mechanisms: string[] }>();
    expect(offered.mechanisms).toEqual(["SCRAM-SHA-256"]);
    const plain = await saslExchange(client("PLAIN", { authcid: login, password: PASSWORD }), "PLAIN");
    expect(plain.status).toBe(403);
    expect(plain.body).toMatchObject({ smtp_status: "5.7.9" });
    const basic = await submitJson(`Basic ${btoa(`${login}:${PASSWORD}`)}`, message("x@example.com"));
    expect(basic.status).toBe(403);
  });

  it("answers ANONYMOUS (noanonymous), an unknown mechanism and plaintext without TLS with their codes", async () => {
    const anonymous = await saslExchange(client("ANONYMOUS", { authcid: "trace" }), "ANONYMOUS");
    expect(anonymous.body).toMatchObject({ smtp_status: "5.7.9" });
    const unknown = await call("/v1/auth/sasl", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ mechanism: "NTLM" }),
    });
    expect(unknown.status).toBe(400);
    expect(await unknown.json()).toMatchObject({ smtp_status: "5.5.4" });
    const login = await account();
    const clear = await saslExchange(
      client("PLAIN", { authcid: login, password: PASSWORD }),
      "PLAIN",
      "http://postern.example",
    );
    expect(clear.status).toBe(403);
    expect(clear.body).toMatchObject({ smtp_status: "5.7.11" });
  });

  it("refuses a tampered continuation and an over-long response", async () => {
    const login = await account();
    const first = await (
      await call("/v1/auth/sasl", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({
          mechanism: "SCRAM-SHA-256",
          response: btoa(`n,,n=${login},r=abcdefghijklmnopqrstuvwx`),
        }),
      })
    ).json<{ continuation: string }>();
    const tampered = `${first.continuation.slice(0, -4)}AAAA`;
    const res = await call("/v1/auth/sasl", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ continuation: tampered, response: btoa("c=biws,r=x,p=AAAA") }),
    });
    expect(res.status).toBe(400);
    const long = await call("/v1/auth/sasl", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ mechanism: "PLAIN", response: btoa("x".repeat(13_000)) }),
    });
    expect(long.status).toBe(413);
    expect(await long.json()).toMatchObject({ smtp_status: "5.5.6" });
  });
});

describe("SCRAM-SHA-256 over HTTP (RFC 7804)", () => {
  it("authenticates a submission in two round trips and proves the server with Authentication-Info", async () => {
    const login = await account({ senders: ["scram-http@example.com"] });
    const scram = client("SCRAM-SHA-256", { authcid: login, password: PASSWORD });
    const b64 = (bytes: Uint8Array) => btoa(String.fromCharCode(...bytes));
    const body = JSON.stringify(message("scram-http@example.com"));
    const send = (authorization: string) =>
      call("/v1/messages", {
        method: "POST",
        headers: { authorization, "content-type": "application/json" },
        body,
      });
    const first = await send(`SCRAM-SHA-256 data=${b64((await scram.start())!)}`);
    expect(first.status).toBe(401);
    const challenge = first.headers.get("www-authenticate")!;
    const sid = /sid=([^,\s]+)/.exec(challenge)![1]!;
    const data = /data=([^,\s]+)/.exec(challenge)![1]!;
    const reply = await scram.step(Uint8Array.from(atob(data), (c) => c.charCodeAt(0)));
    if (reply.kind !== "respond") throw new Error("client gave up");
    const second = await send(`SCRAM-SHA-256 sid=${sid}, data=${b64(reply.response)}`);
    expect(second.status).toBe(202);
    const info = second.headers.get("authentication-info")!;
    const final = /data=([^,\s]+)/.exec(info)![1]!;
    const verdict = await scram.finish(Uint8Array.from(atob(final), (c) => c.charCodeAt(0)));
    expect(verdict).toEqual({ kind: "done", verified: true });
  });

  it("offers SCRAM-SHA-256 in WWW-Authenticate to a request without credentials", async () => {
    const res = await call("/v1/messages/01ARZ3NDEKTSV4RRFFQ69G5FAV");
    expect(res.headers.get("www-authenticate")).toContain('SCRAM-SHA-256 realm="postern"');
  });
});

describe("Bearer JWTs from a configured issuer", () => {
  let jwk: Record<string, unknown>;
  let sign: (claims: Record<string, unknown>, audience?: string) => Promise<string>;

  beforeAll(async () => {
    const { publicKey, privateKey } = await generateKeyPair("ES256");
    jwk = { ...(await exportJWK(publicKey)), kid: "k1", alg: "ES256" };
    sign = (claims, audience = "postern") =>
      new SignJWT(claims)
        .setProtectedHeader({ alg: "ES256", kid: "k1" })
        .setIssuer("https://idp.example")
        .setAudience(audience)
        .setIssuedAt()
        .setExpirationTime("5m")
        .sign(privateKey);
  });

  afterEach(() => resetParameters(["postern_jwt_issuers"]));

  it("accepts a valid token mapped to an existing login, refuses a wrong audience and an unknown issuer", async () => {
    const login = await account({ senders: ["jwt-user@example.com"] });
    await setParameters({
      postern_jwt_issuers: JSON.stringify([
        {
          issuer: "https://idp.example",
          keys: [jwk],
          audiences: ["postern"],
          algorithms: ["ES256"],
          login_claim: "sub",
        },
      ]),
    });
    const good = await sign({ sub: login });
    expect((await submitJson(`Bearer ${good}`, message("jwt-user@example.com"))).status).toBe(202);
    const other = await sign({ sub: login }, "someone-else");
    expect((await submitJson(`Bearer ${other}`, message("jwt-user@example.com"))).status).toBe(401);
    const nobody = await sign({ sub: "no-such-login@example.com" });
    expect((await submitJson(`Bearer ${nobody}`, message("jwt-user@example.com"))).status).toBe(401);
    const unsigned = `${btoa(JSON.stringify({ alg: "none" })).replace(/=/g, "")}.${btoa(JSON.stringify({ iss: "https://idp.example", aud: "postern", sub: login, exp: 9999999999 })).replace(/=/g, "")}.`;
    expect((await submitJson(`Bearer ${unsigned}`, message("jwt-user@example.com"))).status).toBe(401);
  });

  it("OAUTHBEARER: a valid token authenticates; a bad one gets the JSON error challenge, then 401", async () => {
    const login = await account();
    await setParameters({
      postern_jwt_issuers: JSON.stringify([
        { issuer: "https://idp.example", keys: [jwk], audiences: ["postern"], algorithms: ["ES256"] },
      ]),
    });
    const token = await sign({ sub: login });
    const ok = await saslExchange(
      client("OAUTHBEARER", { authcid: login, token, host: "postern.test", port: 443 }),
      "OAUTHBEARER",
    );
    expect(ok.body).toMatchObject({ status: "authenticated", login });
    const bad = await saslExchange(
      client("OAUTHBEARER", { authcid: login, token: "not.a.token", host: "postern.test", port: 443 }),
      "OAUTHBEARER",
    );
    expect(bad.status).toBe(401);
    expect(bad.steps).toBe(2);
    const xoauth = await saslExchange(client("XOAUTH2", { authcid: login, token }), "XOAUTH2");
    expect(xoauth.body).toMatchObject({ status: "authenticated", login });
  });
});
