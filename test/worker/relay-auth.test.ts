// The relay client's SASL/TLS policy and credential storage on the Workers runtime: connect() with
// TLS levels verify and encrypt against the real smarthost (workerd checks its certificate against
// its trust store, which holds the test CA through NODE_EXTRA_CA_CERTS), the smtp_sasl_* options,
// the auth cache in D1, and OAuth2 credentials through the admin API without their secrets.
import { env } from "cloudflare:workers";
import { beforeAll, beforeEach, describe, expect, it } from "vitest";
import { admin, allFinal, newAccount, setParameters, sink, submitJson, waitFor } from "./helpers.ts";

const ports = sink.ports;
const hop = `[127.0.0.1]:${ports.starttls}`;

async function relayWith(extra: Record<string, string>, credential = "relay:relay-secret") {
  await setParameters({
    relayhost: hop,
    smtp_sasl_auth_enable: "yes",
    smtp_tls_security_level: "encrypt",
    smtp_tls_wrappermode: "no",
    smtp_sasl_tls_security_options: "noanonymous",
    smtp_sasl_tls_verified_security_options: "$smtp_sasl_tls_security_options",
    smtp_sasl_mechanism_filter: "",
    smtp_sasl_auth_cache_name: "",
    minimal_backoff_time: "1s",
    maximal_backoff_time: "2s",
    ...extra,
  });
  const res = await admin("PUT", `/maps/sasl_passwd/${encodeURIComponent(hop)}`, { value: credential });
  expect(res.status).toBe(200);
}

async function send(to: string) {
  const from = `sender-${crypto.randomUUID()}@example.com`;
  const alice = await newAccount([from]);
  const res = await submitJson(alice.basic, { from, to: [to], subject: "s", text: "x" });
  expect(res.status).toBe(202);
  const { id } = await res.json<{ id: string }>();
  return { alice, id };
}

describe("relay SASL and TLS policy on Workers", () => {
  beforeAll(async () => {
    await sink.up();
  });
  beforeEach(async () => {
    await sink.clear();
  });

  it("verify: a certificate the trust store vouches for, for 127.0.0.1, is accepted", async () => {
    await relayWith({ smtp_tls_security_level: "verify" });
    const { alice, id } = await send("verified@example.net");
    const view = await waitFor(alice.basic, id, allFinal);
    expect(view.recipients[0]).toMatchObject({ status: "sent" });
    expect(await sink.messages("verified@example.net")).toEqual([
      expect.objectContaining({ authUser: "relay", secure: true }),
    ]);
  });

  it("verify: smtp_sasl_tls_verified_security_options = noplaintext leaves no worthy mechanism", async () => {
    await relayWith({
      smtp_tls_security_level: "verify",
      smtp_sasl_tls_verified_security_options: "noplaintext",
    });
    const { alice, id } = await send("noworthy@example.net");
    const view = await waitFor(alice.basic, id, (v) => v.recipients[0]!.attempts >= 1);
    expect(view.recipients[0]).toMatchObject({
      status: "deferred",
      reply: "SASL authentication failure: No worthy mechs found",
    });
  });

  it("smtp_sasl_mechanism_filter = cram-md5 against a PLAIN/LOGIN server: No worthy mechs found", async () => {
    await relayWith({ smtp_sasl_mechanism_filter: "cram-md5" });
    const { alice, id } = await send("filtered@example.net");
    const view = await waitFor(alice.basic, id, (v) => v.recipients[0]!.attempts >= 1);
    expect(view.recipients[0]!.reply).toBe("SASL authentication failure: No worthy mechs found");
    expect(await sink.messages("filtered@example.net")).toHaveLength(0);
  });

  it("smtp_sasl_mechanism_filter = !plain, static:all still relays (LOGIN)", async () => {
    await relayWith({ smtp_sasl_mechanism_filter: "!plain, static:all" });
    const { alice, id } = await send("login@example.net");
    const view = await waitFor(alice.basic, id, allFinal);
    expect(view.recipients[0]).toMatchObject({ status: "sent" });
  });

  it("a refused password is remembered in D1 and answered from there on the retry", async () => {
    await relayWith({ smtp_sasl_auth_cache_name: "d1:sasl_auth_cache" }, "relay:wrong-password");
    const { alice, id } = await send("cache@example.net");
    const first = await waitFor(alice.basic, id, (v) => v.recipients[0]!.attempts >= 1);
    expect(first.recipients[0]!.reply).toMatch(/^SASL authentication failed; server .* said: 535 /);
    const cache = await (await admin("GET", "/relay/auth-cache")).json<{ entries: { username: string }[] }>();
    expect(cache.entries).toEqual([
      expect.objectContaining({ username: "relay", server: `127.0.0.1[127.0.0.1]:${ports.starttls}` }),
    ]);
    expect(JSON.stringify(cache)).not.toContain("wrong-password");
    const retried = await waitFor(alice.basic, id, (v) => v.recipients[0]!.attempts >= 2);
    expect(retried.recipients[0]!.reply).toMatch(/^SASL \[CACHED\] authentication failed; /);
    // The right password clears the entry, and the next retry delivers.
    await relayWith({ smtp_sasl_auth_cache_name: "d1:sasl_auth_cache" });
    expect(await (await admin("GET", "/relay/auth-cache")).json()).toEqual({ entries: [] });
    const done = await waitFor(alice.basic, id, allFinal);
    expect(done.recipients[0]).toMatchObject({ status: "sent" });
  });
});

describe("OAuth2 relay credentials through the admin API on D1", () => {
  const body = {
    token_endpoint: "https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/token",
    client_id: "00000000-1111-2222-3333-444444444444",
    client_secret: "very-secret-client-secret",
    refresh_token: "very-secret-refresh-token",
    scope: "https://outlook.office.com/SMTP.Send offline_access",
  };

  it("stores a credential, lists it without secrets, re-seals it, deletes it", async () => {
    const put = await admin("PUT", "/relay/oauth2/m365", body);
    expect(put.status).toBe(200);
    expect(await put.json()).toEqual({ name: "m365", password_map_value: "oauth2:m365" });
    const listed = await (await admin("GET", "/relay/oauth2")).text();
    expect(JSON.parse(listed)).toEqual({
      credentials: [
        expect.objectContaining({
          name: "m365",
          tokenEndpoint: body.token_endpoint,
          clientId: body.client_id,
          hasClientSecret: true,
          accessTokenExpiresAt: null,
        }),
      ],
    });
    expect(listed).not.toContain("very-secret");
    const resealed = await (await admin("POST", "/relay/reseal")).json<{ key: string; resealed: unknown }>();
    expect(resealed).toEqual({ key: "k1", resealed: { map_entries: 0, oauth2: 0 } });
    expect((await admin("DELETE", "/relay/oauth2/m365")).status).toBe(204);
    expect((await admin("DELETE", "/relay/oauth2/m365")).status).toBe(404);
  });

  it("refuses a plain-http token endpoint that is not loopback, and a bad name", async () => {
    expect(
      (await admin("PUT", "/relay/oauth2/m365", { ...body, token_endpoint: "http://idp.example/token" }))
        .status,
    ).toBe(422);
    expect((await admin("PUT", "/relay/oauth2/bad%20name", body)).status).toBe(422);
  });
});

describe("smtp_tls_security_level on Workers: connect() always verifies", () => {
  const untrusted = `[127.0.0.1]:${env.TEST_UNTRUSTED_SMARTHOST}`;

  async function via(level: string, authEnable: string) {
    await setParameters({
      relayhost: untrusted,
      smtp_sasl_auth_enable: authEnable,
      smtp_tls_security_level: level,
      smtp_tls_wrappermode: "no",
      smtp_sasl_mechanism_filter: "",
      smtp_sasl_tls_verified_security_options: "$smtp_sasl_tls_security_options",
    });
    const res = await admin("PUT", `/maps/sasl_passwd/${encodeURIComponent(untrusted)}`, {
      value: "relay:relay-secret",
    });
    expect(res.status).toBe(200);
  }

  it("encrypt: a self-signed certificate fails the handshake; deferred, nothing sent", async () => {
    await via("encrypt", "yes");
    const { alice, id } = await send("encrypt@example.net");
    const view = await waitFor(alice.basic, id, (v) => v.recipients[0]!.attempts >= 1);
    expect(view.recipients[0]).toMatchObject({
      status: "deferred",
      reply: "Cannot start TLS: handshake failure",
    });
  });

  it("may: the failed handshake is retried in plaintext, where noplaintext keeps the password back", async () => {
    await via("may", "yes");
    const { alice, id } = await send("may-auth@example.net");
    const view = await waitFor(alice.basic, id, (v) => v.recipients[0]!.attempts >= 1);
    expect(view.recipients[0]).toMatchObject({
      status: "deferred",
      reply: "SASL authentication failure: No worthy mechs found",
    });
  });

  it("may without credentials: the message goes in plaintext, as Postfix's may would send it", async () => {
    await via("may", "no");
    const { alice, id } = await send("may-plain@example.net");
    const view = await waitFor(alice.basic, id, allFinal);
    expect(view.recipients[0]).toMatchObject({ status: "sent" });
  });
});
