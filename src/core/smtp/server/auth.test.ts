import { describe, expect, it } from "vitest";
import { Settings } from "../../config/settings.ts";
import type { ClientMechanism } from "../../sasl/mechanism.ts";
import { findMechanism } from "../../sasl/mechanisms.ts";
import { testContext } from "../../sasl/memory-credentials.test-helper.ts";
import { memoryRateCounter } from "./memory-rate-counter.ts";
import { saslAuthPort } from "./sasl-auth-port.ts";
import type { AuthFailure } from "./session-ports.ts";
import {
  ACCOUNTS,
  base64,
  plain,
  TEST_SETTINGS,
  type Transcript,
  tlsTranscript,
  transcript,
  unbase64,
} from "./transcript.test-helper.ts";

const PEER = "client.example[203.0.113.5]";

/** Runs a real client mechanism over AUTH; returns the final reply. */
async function authenticate(
  t: Transcript,
  client: ClientMechanism,
  name: string,
  initial = true,
): Promise<string> {
  const first = initial ? await client.start() : null;
  const argument = first === null ? "" : first.length === 0 ? " =" : ` ${base64(first)}`;
  await t.send(`AUTH ${name}${argument}\r\n`);
  for (let steps = 0; steps < 10; steps++) {
    const reply = t.expect(/^\d{3} /);
    if (!reply.startsWith("334 ")) return reply;
    const step = await client.step(unbase64(reply.slice(4)));
    if (step.kind !== "respond") throw new Error(`client gave up: ${JSON.stringify(step)}`);
    await t.send(`${base64(step.response)}\r\n`);
  }
  throw new Error("too many steps");
}

const label = (mechanism: string, initial: boolean) =>
  `${mechanism} ${initial ? "with" : "without"} an initial response`;

const clientFor = (name: string, authcid: string, password: string) =>
  findMechanism(name)!.client({ authcid, password });

describe("AUTH through the real mechanisms", () => {
  const cases = [
    { mechanism: "PLAIN", initial: true },
    { mechanism: "PLAIN", initial: false },
    { mechanism: "LOGIN", initial: false },
    { mechanism: "SCRAM-SHA-256", initial: true },
    { mechanism: "SCRAM-SHA-1", initial: true },
    { mechanism: "CRAM-MD5", initial: false },
  ];
  for (const { mechanism, initial } of cases) {
    it(`${label(mechanism, initial)}: right password, then mail as that login`, async () => {
      const accounts = { alice: { password: "alice-password", sharedSecret: true } };
      const t = await tlsTranscript({ accounts });
      const reply = await authenticate(
        t,
        clientFor(mechanism, "alice", "alice-password"),
        mechanism,
        initial,
      );
      expect(reply).toBe("235 2.7.0 Authentication successful");
      await t.envelope("alice@example.com", "bob@remote.test");
      expect(t.logs).toContain(`QID1: client=${PEER}, sasl_method=${mechanism}, sasl_username=alice`);
    });

    it(`${label(mechanism, initial)}: a wrong password is 535 and Postfix's log line`, async () => {
      const accounts = { alice: { password: "alice-password", sharedSecret: true } };
      const t = await tlsTranscript({ accounts });
      const reply = await authenticate(t, clientFor(mechanism, "alice", "wrong"), mechanism, initial);
      expect(reply).toBe("535 5.7.8 Error: authentication failed: authentication failure");
      expect(t.logs.filter((line) => line.includes("authentication failed"))).toEqual([
        expect.stringMatching(
          new RegExp(
            `^warn: warning: ${PEER.replace(/[.[\]]/g, "\\$&")}: SASL ${mechanism} authentication failed: .+, sasl_username=alice$`,
          ),
        ),
      ]);
      await t.send("MAIL FROM:<alice@example.com>\r\n");
      t.expect("250 2.1.0 Ok");
      await t.send("RCPT TO:<bob@remote.test>\r\n");
      t.expect("553 5.7.1 <alice@example.com>: Sender address rejected: not logged in");
    });
  }

  it("SCRAM-SHA-256 sends the server signature as a 334 and waits for an empty line (RFC 4954 §4)", async () => {
    const t = await transcript();
    await t.ehlo();
    const client = clientFor("SCRAM-SHA-256", "alice", "alice-password");
    await t.send(`AUTH SCRAM-SHA-256 ${base64((await client.start())!)}\r\n`);
    const first = t.expect(/^334 /);
    const final = await client.step(unbase64(first.slice(4)));
    expect(final.kind).toBe("respond");
    await t.send(`${base64((final as { response: Uint8Array }).response)}\r\n`);
    const signature = t.expect(/^334 /);
    expect(new TextDecoder().decode(unbase64(signature.slice(4)))).toMatch(/^v=/);
    expect(await client.step(unbase64(signature.slice(4)))).toEqual({
      kind: "respond",
      response: new Uint8Array(),
    });
    await t.send("\r\n");
    t.expect("235 2.7.0 Authentication successful");
  });

  it("SCRAM: anything but an empty line after the signature fails", async () => {
    const t = await transcript();
    await t.ehlo();
    const client = clientFor("SCRAM-SHA-256", "alice", "alice-password");
    await t.send(`AUTH SCRAM-SHA-256 ${base64((await client.start())!)}\r\n`);
    const final = await client.step(unbase64(t.expect(/^334 /).slice(4)));
    await t.send(`${base64((final as { response: Uint8Array }).response)}\r\n`);
    t.expect(/^334 /);
    await t.send("Kg==\r\n");
    t.expect("535 5.7.8 Error: authentication failed: authentication failure");
    await t.send("MAIL FROM:<alice@example.com>\r\n");
    t.expect("250 2.1.0 Ok");
    await t.send("RCPT TO:<bob@remote.test>\r\n");
    t.expect(/^553 /);
  });

  it("an unknown login fails like a wrong password", async () => {
    const t = await tlsTranscript();
    await t.send(`AUTH PLAIN ${plain("mallory", "guess")}\r\n`);
    t.expect("535 5.7.8 Error: authentication failed: authentication failure");
    expect(t.logs).toContain(
      `warn: warning: ${PEER}: SASL PLAIN authentication failed: authentication failure, sasl_username=mallory`,
    );
  });

  it("the auth port hears of each failure after its log line (auth.failed events), not of a cancel or a success", async () => {
    const failures: AuthFailure[] = [];
    const settings = new Settings(TEST_SETTINGS);
    const base = saslAuthPort({ settings, context: () => testContext(ACCOUNTS) });
    const t = await tlsTranscript({ auth: { ...base, failed: (failure) => failures.push(failure) } });
    await t.send(`AUTH PLAIN ${plain("alice", "guess")}\r\n`);
    t.expect(/^535 /);
    await t.send("AUTH LOGIN\r\n");
    t.expect(/^334 /);
    await t.send("*\r\n");
    t.expect(/^501 /);
    await t.send(`AUTH PLAIN ${plain("alice", "alice-password")}\r\n`);
    t.expect(/^235 /);
    // The client's own cancel (*) is no failure: Postfix logs none either.
    expect(failures).toEqual([{ mechanism: "PLAIN", reason: "authentication failure", login: "alice" }]);
  });

  it("PLAIN with an authzid the login may act as; the session submits as the authzid", async () => {
    const t = await tlsTranscript();
    await t.send(`AUTH PLAIN ${plain("bob", "bob-password", "shared")}\r\n`);
    t.expect("235 2.7.0 Authentication successful");
    await t.envelope("shared@example.com", "carol@remote.test");
    expect(t.logs).toContain(`QID1: client=${PEER}, sasl_method=PLAIN, sasl_username=shared`);
  });

  it("an empty initial response ('=') asks for the message", async () => {
    const t = await tlsTranscript();
    await t.send("AUTH PLAIN =\r\n");
    t.expect("334 ");
    await t.send(`${plain("alice", "alice-password")}\r\n`);
    t.expect("235 2.7.0 Authentication successful");
  });

  it("LOGIN prompts for the user name and the password", async () => {
    const t = await tlsTranscript();
    await t.send("AUTH login\r\n");
    t.expect(`334 ${base64("Username:")}`);
    await t.send(`${base64("alice")}\r\n`);
    t.expect(`334 ${base64("Password:")}`);
    await t.send(`${base64("alice-password")}\r\n`);
    t.expect("235 2.7.0 Authentication successful");
  });
});

describe("AUTH OAUTHBEARER (RFC 7628)", () => {
  const initial = (token: string) =>
    base64(`n,a=alice,\x01host=${"mx.postern.test"}\x01port=587\x01auth=Bearer ${token}\x01\x01`);

  it("a valid token authenticates", async () => {
    const t = await tlsTranscript();
    await t.send(`AUTH OAUTHBEARER ${initial("valid-token-for-alice")}\r\n`);
    t.expect("235 2.7.0 Authentication successful");
  });

  it("a bad token gets the JSON error as a 334, then 535 after the client's %x01", async () => {
    const t = await tlsTranscript();
    await t.send(`AUTH OAUTHBEARER ${initial("stolen")}\r\n`);
    const challenge = t.expect(/^334 /);
    expect(JSON.parse(new TextDecoder().decode(unbase64(challenge.slice(4))))).toEqual({
      status: "invalid_token",
    });
    await t.send(`${base64("\x01")}\r\n`);
    t.expect("535 5.7.8 Error: authentication failed: authentication failure");
    expect(t.logs).toContain(
      `warn: warning: ${PEER}: SASL OAUTHBEARER authentication failed: token rejected, sasl_username=alice`,
    );
  });

  it("the client may abort after the error challenge", async () => {
    const t = await tlsTranscript();
    await t.send(`AUTH OAUTHBEARER ${initial("stolen")}\r\n`);
    t.expect(/^334 /);
    await t.send("*\r\n");
    t.expect("501 5.7.0 Authentication aborted");
  });
});

describe("AUTH refusals", () => {
  const cases: {
    name: string;
    setup?: (t: Transcript) => Promise<void>;
    command: string;
    want: string;
    options?: Parameters<typeof transcript>[0];
    ehlo?: false;
  }[] = [
    {
      name: "AUTH disabled",
      command: "AUTH PLAIN",
      want: "503 5.5.1 Error: authentication not enabled",
      options: { tls: {}, smtpd: { smtpd_sasl_auth_enable: "no" } },
    },
    {
      name: "no SASL port",
      command: "AUTH PLAIN",
      want: "503 5.5.1 Error: authentication not enabled",
      options: { tls: {}, auth: null },
    },
    {
      name: "a client in smtpd_sasl_exceptions_networks",
      command: "AUTH PLAIN",
      want: "503 5.5.1 Error: authentication not enabled",
      options: { tls: {}, smtpd: { smtpd_sasl_exceptions_networks: "203.0.113.0/24" } },
    },
    {
      name: "before EHLO",
      command: "AUTH PLAIN",
      want: "503 5.5.1 Error: send HELO/EHLO first",
      options: { tls: {} },
      ehlo: false,
    },
    { name: "no mechanism", command: "AUTH", want: "501 5.5.4 Syntax: AUTH mechanism", options: { tls: {} } },
    {
      name: "too many words",
      command: "AUTH PLAIN a b",
      want: "501 5.5.4 Syntax: AUTH mechanism",
      options: { tls: {} },
    },
    {
      name: "an unknown mechanism",
      command: "AUTH NTLM",
      want: "504 5.5.4 Unrecognized authentication type",
      options: { tls: {} },
    },
    {
      name: "a mechanism the policy removes everywhere",
      command: "AUTH ANONYMOUS",
      want: "504 5.5.4 Unrecognized authentication type",
      options: { tls: {} },
    },
    {
      name: "PLAIN without TLS (only TLS would allow it): 538, not Postfix's 504",
      command: "AUTH PLAIN",
      want: "538 5.7.11 Encryption required for requested authentication mechanism",
    },
    {
      name: "any mechanism before TLS under smtpd_tls_auth_only",
      command: "AUTH SCRAM-SHA-256",
      want: "538 5.7.11 Encryption required for requested authentication mechanism",
      options: { smtpd: { smtpd_tls_auth_only: "yes" } },
    },
    {
      name: "before STARTTLS under smtpd_tls_security_level = encrypt",
      command: "AUTH SCRAM-SHA-256",
      want: "530 5.7.0 Must issue a STARTTLS command first",
      options: { smtpd: { smtpd_tls_security_level: "encrypt" } },
    },
    {
      name: "SCRAM-SHA-256-PLUS without channel binding data",
      command: "AUTH SCRAM-SHA-256-PLUS",
      want: "504 5.5.4 Unrecognized authentication type",
      options: { tls: {} },
    },
    {
      name: "an initial response that is not base64",
      command: "AUTH PLAIN a*b=",
      want: "501 5.5.2 cannot decode response",
      options: { tls: {} },
    },
    {
      name: "a malformed PLAIN message",
      command: `AUTH PLAIN ${base64("no-nuls-here")}`,
      want: "501 5.5.2 cannot decode response",
      options: { tls: {} },
    },
    {
      name: "already authenticated",
      setup: (t) => t.login("alice", "alice-password"),
      command: "AUTH PLAIN",
      want: "503 5.5.1 Error: already authenticated",
      options: { tls: {} },
    },
    {
      name: "inside a mail transaction",
      setup: async (t) => {
        await t.send("MAIL FROM:<>\r\n");
        t.expect("250 2.1.0 Ok");
      },
      command: "AUTH PLAIN",
      want: "503 5.5.1 Error: MAIL transaction in progress",
      options: { tls: {} },
    },
  ];
  for (const { name, setup, command, want, options, ehlo } of cases) {
    it(name, async () => {
      const t = await transcript(options);
      if (ehlo !== false) await t.ehlo();
      await setup?.(t);
      await t.send(`${command}\r\n`);
      t.expect(want);
      t.expectNothing();
    });
  }

  it("the mechanism name is case-insensitive (RFC 4954 §4)", async () => {
    const t = await tlsTranscript();
    await t.send(`AUTH pLaIn ${plain("alice", "alice-password")}\r\n`);
    t.expect("235 2.7.0 Authentication successful");
  });
});

describe("AUTH exchange control", () => {
  it("'*' aborts, with Postfix's log line", async () => {
    const t = await tlsTranscript();
    await t.send("AUTH LOGIN\r\n");
    t.expect(/^334 /);
    await t.send("*\r\n");
    t.expect("501 5.7.0 Authentication aborted");
    expect(t.logs).toContain(`warn: warning: ${PEER}: SASL LOGIN authentication aborted`);
    // Back to commands.
    await t.send("NOOP\r\n");
    t.expect("250 2.0.0 Ok");
  });

  it("a response that is not base64 ends the exchange", async () => {
    const t = await tlsTranscript();
    await t.send("AUTH PLAIN\r\n");
    t.expect("334 ");
    await t.send("not base64!\r\n");
    t.expect("501 5.5.2 cannot decode response");
    await t.send(`AUTH PLAIN ${plain("alice", "alice-password")}\r\n`);
    t.expect("235 2.7.0 Authentication successful");
  });

  it("a response of exactly smtpd_sasl_response_limit passes, one byte more is 500 5.5.6", async () => {
    const limit = 12288;
    const t = await tlsTranscript();
    await t.send("AUTH PLAIN\r\n");
    t.expect("334 ");
    // limit counts the CRLF; "AAAA" decodes but is not a PLAIN message.
    await t.send(`${"A".repeat(limit - 2)}\r\n`);
    t.expect("501 5.5.2 cannot decode response");
    await t.send("AUTH PLAIN\r\n");
    t.expect("334 ");
    await t.send(`${"A".repeat(limit - 1)}\r\n`);
    t.expect("500 5.5.6 SASL response limit exceeded");
    await t.send("NOOP\r\n");
    t.expect("250 2.0.0 Ok");
  });

  it("a long initial response on the AUTH line is accepted up to the response limit", async () => {
    const t = await tlsTranscript();
    const token = `valid-token-for-alice`;
    const padding = "x".repeat(8000);
    await t.send(`AUTH OAUTHBEARER ${base64(`n,,\x01pad=${padding}\x01auth=Bearer ${token}\x01\x01`)}\r\n`);
    t.expect("235 2.7.0 Authentication successful");
  });

  it("a back end that is down is 454, not 535", async () => {
    const t = await tlsTranscript({
      context: {
        credentials: {
          scram: async () => null,
          sharedSecret: async () => null,
          verifyPassword: async () => {
            throw Object.assign(new Error("database unreachable"), { transient: true });
          },
        },
      },
    });
    await t.send(`AUTH PLAIN ${plain("alice", "alice-password")}\r\n`);
    t.expect("454 4.7.0 Temporary authentication failure");
    expect(t.logs.some((line) => line.includes("SASL PLAIN authentication failed:"))).toBe(true);
  });

  it("a mechanism that throws is 454", async () => {
    const t = await tlsTranscript({
      context: {
        canonicalLogin: () => {
          throw new Error("boom");
        },
      },
    });
    await t.send(`AUTH PLAIN ${plain("alice", "alice-password")}\r\n`);
    t.expect("454 4.7.0 Temporary authentication failure");
    expect(t.logs).toContain(
      `warn: warning: ${PEER}: SASL PLAIN authentication failed: mechanism error: boom`,
    );
  });

  it("an identity without a usable account (the port's login) fails with 535", async () => {
    const strict = await transcript({
      tls: {},
      auth: saslAuthPort({
        settings: new Settings(TEST_SETTINGS),
        context: () => testContext(ACCOUNTS),
        login: async (identity) => (identity.authzid === "bob" ? "bob@accounts" : null),
      }),
    });
    await strict.ehlo();
    await strict.send(`AUTH PLAIN ${plain("alice", "alice-password")}\r\n`);
    strict.expect("535 5.7.8 Error: authentication failed: authentication failure");
    expect(strict.logs).toContain(
      `warn: warning: ${PEER}: SASL PLAIN authentication failed: authorization identity has no usable account, sasl_username=alice`,
    );
    await strict.send(`AUTH PLAIN ${plain("bob", "bob-password")}\r\n`);
    strict.expect("235 2.7.0 Authentication successful");
    await strict.send("MAIL FROM:<>\r\nRCPT TO:<x@remote.test>\r\n");
    strict.drain();
    expect(strict.logs).toContain(`QID1: client=${PEER}, sasl_method=PLAIN, sasl_username=bob@accounts`);
  });

  it("SCRAM-SHA-256-PLUS runs with the connection's tls-exporter data", async () => {
    const data = Uint8Array.from({ length: 32 }, (_, i) => i);
    const t = await tlsTranscript({ tls: { channelBinding: data } });
    const client = findMechanism("SCRAM-SHA-256-PLUS")!.client({
      authcid: "alice",
      password: "alice-password",
      channelBinding: { type: "tls-exporter", data },
    });
    expect(await authenticate(t, client, "SCRAM-SHA-256-PLUS")).toBe("235 2.7.0 Authentication successful");
  });

  it("SCRAM-SHA-256-PLUS fails when the client's binding data differ (a man in the middle)", async () => {
    const t = await tlsTranscript({ tls: { channelBinding: new Uint8Array(32).fill(1) } });
    const client = findMechanism("SCRAM-SHA-256-PLUS")!.client({
      authcid: "alice",
      password: "alice-password",
      channelBinding: { type: "tls-exporter", data: new Uint8Array(32).fill(2) },
    });
    expect(await authenticate(t, client, "SCRAM-SHA-256-PLUS")).toBe(
      "535 5.7.8 Error: authentication failed: authentication failure",
    );
  });
});

describe("smtpd_client_auth_rate_limit", () => {
  it("the AUTH command beyond the limit in a time unit gets 450 and a warning; the next unit resets", async () => {
    let now = 0;
    const counter = memoryRateCounter({ now: () => now });
    const t = await tlsTranscript({ smtpd: { smtpd_client_auth_rate_limit: "2" }, authRate: counter });
    for (let i = 0; i < 2; i++) {
      await t.send(`AUTH PLAIN ${plain("alice", "wrong")}\r\n`);
      t.expect(/^535 /);
    }
    await t.send(`AUTH PLAIN ${plain("alice", "alice-password")}\r\n`);
    t.expect("450 4.7.1 Error: too many AUTH commands from 203.0.113.5");
    expect(t.logs).toContain(
      `warn: warning: Authentication command rate limit exceeded: 3 from ${PEER} for service smtp`,
    );
    now += 60_000;
    await t.send(`AUTH PLAIN ${plain("alice", "alice-password")}\r\n`);
    t.expect("235 2.7.0 Authentication successful");
  });

  it("counts AUTH commands that are refused for other reasons too", async () => {
    const counter = memoryRateCounter({ now: () => 0 });
    const t = await tlsTranscript({ smtpd: { smtpd_client_auth_rate_limit: "1" }, authRate: counter });
    await t.send("AUTH NTLM\r\n");
    t.expect(/^504 /);
    await t.send(`AUTH PLAIN ${plain("alice", "alice-password")}\r\n`);
    t.expect(/^450 4\.7\.1 /);
  });
});
