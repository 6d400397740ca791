// Interop of the Node SMTP listener with clients no one here wrote (beside smtp-listener.test.ts,
// which has smtplib, swaks PLAIN/LOGIN and gsasl SCRAM-SHA-256-PLUS): swaks with CRAM-MD5 for an
// account that opted into a shared secret; curl's SMTP client with AUTH=PLAIN, LOGIN, CRAM-MD5,
// XOAUTH2 and OAUTHBEARER (a JWT from a configured issuer) over STARTTLS (--ssl-reqd) and smtps;
// and Postfix itself relaying to Postern with smtp_sasl_auth_enable = yes, through to the test
// smarthost. Debian packages: swaks, curl, postfix, libsasl2-modules (.ci/run installs them).
import { execFile, spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { exportJWK, generateKeyPair, SignJWT } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningNodeServer, startNodeServer } from "../../src/node/node-server.ts";
import { startSmtpListener } from "../../src/node/smtp-listener.ts";
import { freePort } from "../dovecot/dovecot-process.ts";
import { bodyBytes, type Smarthost, smarthost } from "../smarthost/client.ts";
import { type RunningSmarthost, startSmarthost } from "../smarthost/spawn.ts";
import { type PostfixInstance, startPostfix } from "./postfix-instance.ts";

const run = promisify(execFile);
const ADMIN_TOKEN = "smtp-interop-admin-token-0123";
const SECRET_KEY = `k1:${Buffer.alloc(32, 5).toString("base64")}`;
const HOST = "mx.postern.test";
const ISSUER = "https://idp.interop.test";
const scratch = mkdtempSync(path.join(tmpdir(), "postern-smtp-interop-"));

let smarthostProcess: RunningSmarthost;
let sink: Smarthost;
let server: RunningNodeServer;
let smtpPort: number;
let smtpsPort: number;
let certFile: string;
let signingKey: Awaited<ReturnType<typeof generateKeyPair>>["privateKey"];

const ALICE = { login: "alice@example.com", password: `pw-${crypto.randomUUID()}` };
/** Opted into a shared secret, so CRAM-MD5 works for her. */
const CAROL = { login: "carol@example.com", password: `pw-${crypto.randomUUID()}` };

async function admin(method: string, route: string, body?: unknown): Promise<void> {
  const res = await fetch(`${server.url}/v1/admin${route}`, {
    method,
    headers: { authorization: `Bearer ${ADMIN_TOKEN}`, "content-type": "application/json" },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  if (!res.ok) throw new Error(`${method} ${route}: ${res.status} ${await res.text()}`);
}

beforeAll(async () => {
  smarthostProcess = await startSmarthost();
  sink = smarthost(smarthostProcess.json);
  await sink.up();
  const keys = await generateKeyPair("ES256", { extractable: true });
  signingKey = keys.privateKey;
  const jwk = { ...(await exportJWK(keys.publicKey)), kid: "interop", alg: "ES256" };
  server = await startNodeServer({
    dataDir: path.join(scratch, "data"),
    port: 0,
    adminToken: ADMIN_TOKEN,
    secretKey: SECRET_KEY,
    settingsOverrides: {
      myhostname: HOST,
      relayhost: `[127.0.0.1]:${sink.ports.open}`,
      smtp_tls_security_level: "none",
      minimal_backoff_time: "1s",
      maximal_backoff_time: "1s",
      postern_jwt_issuers: JSON.stringify([
        { issuer: ISSUER, keys: [jwk], audiences: ["postern"], algorithms: ["ES256"], login_claim: "email" },
      ]),
    },
    smtp: {
      port: 0,
      tlsPort: 0,
      parameters: { smtpd_sasl_auth_enable: "yes", smtpd_sasl_authenticated_header: "yes" },
    },
  });
  smtpPort = server.smtp!.port!;
  smtpsPort = server.smtp!.tlsPort!;
  certFile = server.smtp!.certificate.certFile;
  await admin("POST", "/accounts", { login: ALICE.login, password: ALICE.password });
  await admin("POST", "/accounts", { login: CAROL.login, password: CAROL.password, shared_secret: true });
  for (const user of [ALICE, CAROL]) {
    await admin("PUT", `/maps/sender_login/${encodeURIComponent(user.login)}`, { value: user.login });
  }
}, 30_000);

afterAll(async () => {
  await server?.stop();
  await smarthostProcess?.stop();
  rmSync(scratch, { recursive: true, force: true });
});

async function stored(id: string) {
  const view = await server.node.services.messages.view(id);
  if (!view) throw new Error(`message ${id} is not in the store`);
  return view.message;
}

describe("swaks", () => {
  it("--auth CRAM-MD5 for an account with a shared secret, STARTTLS: stored as that login", async () => {
    // biome-ignore format: option/value pairs read better side by side
    const { stdout } = await run("swaks", [
      "--server", "127.0.0.1", "--port", String(smtpPort), "--tls", "--auth", "CRAM-MD5",
      "--auth-user", CAROL.login, "--auth-password", CAROL.password,
      "--from", CAROL.login, "--to", "swaks-cram@example.net", "--timeout", "10",
    ]);
    expect(stdout).toMatch(/~> AUTH CRAM-MD5\r?\n<~ {1,2}334 /);
    const id = /<~ {1,2}250 2\.0\.0 Ok: queued as (\S+)/.exec(stdout)?.[1];
    expect(await stored(id!)).toMatchObject({ saslUsername: CAROL.login, saslMethod: "CRAM-MD5" });
    await sink.waitForMessages("swaks-cram@example.net", 1, 10_000);
  });

  it("--auth CRAM-MD5 for an account without one: 535 (its password cannot be used that way)", async () => {
    await expect(
      // biome-ignore format: option/value pairs read better side by side
      run("swaks", [
        "--server", "127.0.0.1", "--port", String(smtpsPort), "--tls-on-connect", "--auth", "CRAM-MD5",
        "--auth-user", ALICE.login, "--auth-password", ALICE.password,
        "--from", ALICE.login, "--to", "never@example.net", "--timeout", "10",
      ]),
    ).rejects.toMatchObject({ stdout: expect.stringMatching(/<~\* 535 5\.7\.8 /) });
  });
});

/** curl's SMTP client sending one message; its -v trace (stderr) has the dialogue. */
async function curl(url: string, args: string[], rcpt: string): Promise<{ id: string; trace: string }> {
  const message = path.join(scratch, `${rcpt}.eml`);
  writeFileSync(message, `From: <${ALICE.login}>\r\nTo: <${rcpt}>\r\nSubject: curl\r\n\r\nvia curl\r\n`);
  // biome-ignore format: option/value pairs read better side by side
  const { stderr } = await run("curl", [
    "-sS", "-v", "--url", url, "--cacert", certFile, "--max-time", "15",
    "--mail-from", ALICE.login, "--mail-rcpt", rcpt, "--upload-file", message, ...args,
  ]);
  const id = /^< 250 2\.0\.0 Ok: queued as (\S+)/m.exec(stderr)?.[1];
  if (!id) throw new Error(`curl: no queue id in\n${stderr}`);
  return { id, trace: stderr };
}

describe("curl's SMTP client", () => {
  // The self-signed certificate names 127.0.0.1, so curl verifies it against --cacert.
  for (const mechanism of ["PLAIN", "LOGIN"] as const) {
    it(`--login-options AUTH=${mechanism} over STARTTLS (--ssl-reqd) and smtps`, async () => {
      const user = ["--user", `${ALICE.login}:${ALICE.password}`, "--login-options", `AUTH=${mechanism}`];
      const rcpt = `curl-${mechanism.toLowerCase()}@example.net`;
      const starttls = await curl(`smtp://127.0.0.1:${smtpPort}/curl.example`, ["--ssl-reqd", ...user], rcpt);
      expect(starttls.trace).toMatch(/^> STARTTLS/m);
      expect(starttls.trace).toMatch(new RegExp(`^> AUTH ${mechanism}`, "m"));
      const implicit = await curl(`smtps://127.0.0.1:${smtpsPort}/curl.example`, user, rcpt);
      for (const { id } of [starttls, implicit]) {
        expect(await stored(id)).toMatchObject({ saslUsername: ALICE.login, saslMethod: mechanism });
      }
      const got = await sink.waitForMessages(rcpt, 2, 10_000);
      expect(new TextDecoder().decode(bodyBytes(got[0]!))).toMatch(
        new RegExp(`^Received: from curl\\.example .*\\r\\n\\t\\(Authenticated sender: ${ALICE.login}\\)`),
      );
    });
  }

  it("--login-options AUTH=CRAM-MD5 for the shared-secret account over STARTTLS", async () => {
    const message = path.join(scratch, "cram.eml");
    writeFileSync(message, `From: <${CAROL.login}>\r\nSubject: curl\r\n\r\nvia curl\r\n`);
    // biome-ignore format: option/value pairs read better side by side
    const { stderr } = await run("curl", [
      "-sS", "-v", "--url", `smtp://127.0.0.1:${smtpPort}/curl.example`, "--ssl-reqd", "--cacert", certFile,
      "--user", `${CAROL.login}:${CAROL.password}`, "--login-options", "AUTH=CRAM-MD5",
      "--mail-from", CAROL.login, "--mail-rcpt", "curl-cram@example.net", "--upload-file", message,
    ]);
    const id = /^< 250 2\.0\.0 Ok: queued as (\S+)/m.exec(stderr)?.[1];
    expect(await stored(id!)).toMatchObject({ saslUsername: CAROL.login, saslMethod: "CRAM-MD5" });
  });

  it("a wrong password: curl fails with 535 and nothing is queued", async () => {
    await expect(
      curl(
        `smtps://127.0.0.1:${smtpsPort}/curl.example`,
        ["--user", `${ALICE.login}:wrong`, "--login-options", "AUTH=PLAIN"],
        "curl-wrong@example.net",
      ),
    ).rejects.toMatchObject({ stderr: expect.stringMatching(/^< 535 5\.7\.8 /m) });
  });

  // curl takes OAUTHBEARER whenever the server offers it, whatever --login-options says (curl
  // KNOWN_BUGS, issue 10259): XOAUTH2 goes to a listener that does not offer OAUTHBEARER.
  for (const mechanism of ["XOAUTH2", "OAUTHBEARER"] as const) {
    it(`--oauth2-bearer with AUTH=${mechanism}: a JWT of a configured issuer names the login`, async () => {
      const listener = await startSmtpListener(server.node.services, path.join(scratch, "data"), {
        port: 0,
        tlsPort: null,
        parameters: {
          smtpd_sasl_auth_enable: "yes",
          smtpd_sasl_mechanism_filter: mechanism === "XOAUTH2" ? "!external, !oauthbearer, static:rest" : "",
        },
      });
      const token = await new SignJWT({ email: ALICE.login })
        .setProtectedHeader({ alg: "ES256", kid: "interop" })
        .setIssuer(ISSUER)
        .setAudience("postern")
        .setIssuedAt()
        .setExpirationTime("5m")
        .sign(signingKey);
      const { id, trace } = await curl(
        `smtp://127.0.0.1:${listener.port}/curl.example`,
        [
          "--ssl-reqd",
          "--user",
          ALICE.login,
          "--oauth2-bearer",
          token,
          "--login-options",
          `AUTH=${mechanism}`,
        ],
        `curl-${mechanism.toLowerCase()}@example.net`,
      );
      expect(trace).toMatch(new RegExp(`^> AUTH ${mechanism}`, "m"));
      expect(await stored(id)).toMatchObject({ saslUsername: ALICE.login, saslMethod: mechanism });
      await listener.stop(0);
    });
  }
});

/** gsasl's whole output; stdin is closed so it sends no application data after AUTH. */
function gsasl(args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn("gsasl", args, { stdio: ["ignore", "pipe", "pipe"], timeout: 15_000 });
    let output = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => (output += chunk));
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => (output += chunk));
    child.once("error", reject);
    child.once("close", () => resolve(output));
  });
}

describe("gsasl --smtp", () => {
  it("SCRAM-SHA-256 (without channel binding) against a Postern account over STARTTLS: server verified", async () => {
    // gsasl --smtp sends STARTTLS before EHLO: a listener that does not require HELO first.
    const listener = await startSmtpListener(server.node.services, path.join(scratch, "data"), {
      port: 0,
      tlsPort: null,
      parameters: { smtpd_sasl_auth_enable: "yes", smtpd_helo_required: "no" },
    });
    try {
      // Over TLS, gsasl's plain SCRAM-SHA-256 client gives up before its first message unless told
      // to leave channel binding aside (--no-cb); -PLUS is in smtp-listener.test.ts.
      // biome-ignore format: option/value pairs read better side by side
      const output = await gsasl([
        "--client", "--smtp", `--connect=127.0.0.1:${listener.port}`, "--starttls", `--x509-ca-file=${certFile}`,
        "--mechanism=SCRAM-SHA-256", "--no-cb", `--authentication-id=${ALICE.login}`, `--password=${ALICE.password}`,
      ]);
      expect(output).toMatch(/^235 2\.7\.0 Authentication successful$/m);
      expect(output).toMatch(/Client authentication finished \(server trusted\)/);
    } finally {
      await listener.stop(0);
    }
  });
});

describe("Postfix relaying to Postern (smtp_sasl_auth_enable = yes)", () => {
  let postfix: PostfixInstance;

  beforeAll(async () => {
    postfix = await startPostfix({
      port: await freePort(),
      mainCf: {
        relayhost: `[127.0.0.1]:${smtpPort}`,
        smtp_sasl_auth_enable: "yes",
        smtp_sasl_password_maps: "texthash:$config_directory/sasl_passwd",
        smtp_sasl_security_options: "noanonymous",
        smtp_tls_security_level: "encrypt",
        smtp_tls_loglevel: "1",
      },
      files: {
        sasl_passwd:
          `[127.0.0.1]:${smtpPort} ${ALICE.login}:${ALICE.password}\n` +
          `[127.0.0.1]:${smtpsPort} ${CAROL.login}:${CAROL.password}\n`,
      },
    });
  }, 30_000);

  afterAll(async () => {
    await postfix?.stop();
  });

  it("a message injected into Postfix reaches Postern authenticated as the map's login, then the smarthost", async () => {
    const rcpt = "via-postfix@example.net";
    // biome-ignore format: option/value pairs read better side by side
    await run("swaks", [
      "--server", "127.0.0.1", "--port", String(postfix.port), "--helo", "client.example",
      "--from", ALICE.login, "--to", rcpt, "--header", "Subject: through Postfix", "--timeout", "10",
    ]);
    const sent = await postfix.waitForLog(
      /postfix\/smtp\[\d+\]: \w+: to=<via-postfix@example\.net>, relay=127\.0\.0\.1\[127\.0\.0\.1\]:\d+, .*status=sent \(250 2\.0\.0 Ok: queued as (\S+)\)/,
    );
    const id = sent[1]!;
    // Postfix's TLS client negotiated encryption, its Cyrus client picked and ran a mechanism.
    expect(postfix.log()).toMatch(
      /Untrusted TLS connection established to 127\.0\.0\.1\[127\.0\.0\.1\]:\d+: TLSv1\.3/,
    );
    const message = await stored(id);
    expect(message).toMatchObject({ saslUsername: ALICE.login, mailFrom: ALICE.login });
    // Postfix's Cyrus client takes the strongest mechanism it has that Postern offers (-PLUS needs
    // channel binding Postfix does not pass on).
    expect(message.saslMethod).toBe("SCRAM-SHA-256");
    expect(message.accountId).not.toBeNull();
    const [got] = await sink.waitForMessages(rcpt, 1, 15_000);
    const text = new TextDecoder().decode(bodyBytes(got!));
    expect(text).toMatch(
      new RegExp(
        `^Received: from postfix\\.test .*\\r\\n\\t\\(Authenticated sender: ${ALICE.login}\\)\\r\\n\\tby ${HOST} \\(Postern\\) with ESMTPSA id ${id}`,
      ),
    );
    // Postfix's own Received: below ours.
    expect(text).toMatch(
      /\r\nReceived: from client\.example .*\r\n\tby postfix\.test \(Postfix\) with ESMTP id /,
    );
  }, 40_000);

  it("over implicit TLS (smtp_tls_wrappermode) with the mechanism Postfix is told to use (LOGIN)", async () => {
    postfix.reconfigure({
      relayhost: `[127.0.0.1]:${smtpsPort}`,
      smtp_tls_wrappermode: "yes",
      smtp_sasl_mechanism_filter: "login",
    });
    const rcpt = "via-postfix-smtps@example.net";
    // biome-ignore format: option/value pairs read better side by side
    await run("swaks", [
      "--server", "127.0.0.1", "--port", String(postfix.port), "--helo", "client.example",
      "--from", CAROL.login, "--to", rcpt, "--header", "Subject: through Postfix, TLS on connect", "--timeout", "10",
    ]);
    const sent = await postfix.waitForLog(
      /postfix\/smtp\[\d+\]: \w+: to=<via-postfix-smtps@example\.net>, relay=127\.0\.0\.1\[127\.0\.0\.1\]:\d+, .*status=sent \(250 2\.0\.0 Ok: queued as (\S+)\)/,
    );
    const message = await stored(sent[1]!);
    expect(message).toMatchObject({ saslUsername: CAROL.login, saslMethod: "LOGIN", mailFrom: CAROL.login });
    await sink.waitForMessages(rcpt, 1, 15_000);
  }, 40_000);
});
