// DovecotAuthClient against a real Dovecot auth service (Debian's dovecot-core), over connectNode:
// TCP and a UNIX socket, every mechanism the config enables, several exchanges on one connection,
// and what a caller sees when Dovecot goes away and comes back.
import { hmac } from "@noble/hashes/hmac.js";
import { md5 } from "@noble/hashes/legacy.js";
import { pbkdf2 } from "@noble/hashes/pbkdf2.js";
import { sha256 } from "@noble/hashes/sha2.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Socket } from "../../src/core/net/socket.ts";
import {
  DovecotAuthClient,
  type DovecotStartOptions,
  UNAVAILABLE,
} from "../../src/core/sasl/dovecot/index.ts";
import type { SaslStatus } from "../../src/core/sasl/mechanism.ts";
import { connectNode } from "../../src/node/net-socket.ts";
import { type RunningDovecot, requireDovecot, startDovecot } from "../dovecot/dovecot-process.ts";

const enc = (text: string) => new TextEncoder().encode(text);
const dec = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
const b64 = (bytes: Uint8Array) => Buffer.from(bytes).toString("base64");
const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString("hex");

// no-penalty: without it Dovecot's anvil makes every request after a failure wait seconds (per
// remote IP, and all of ours come from one). Postern passes the real client IP instead.
const SMTP: DovecotStartOptions = { initial: null, service: "smtp", secured: false, noPenalty: true };
const plain = (user: string, password: string): DovecotStartOptions => ({
  ...SMTP,
  initial: enc(`\0${user}\0${password}`),
});

let dovecot: RunningDovecot;
const clients: DovecotAuthClient[] = [];

function client(target: "inet" | "unix" = "inet", server: () => RunningDovecot = () => dovecot) {
  const state = { connects: 0, warnings: [] as string[] };
  const instance = new DovecotAuthClient({
    connect: (): Promise<Socket> => {
      state.connects++;
      const running = server();
      return target === "inet"
        ? connectNode({ host: running.host, port: running.port, tls: "off", timeoutMs: 2_000 })
        : connectNode({ host: "localhost", port: 0, tls: "off", path: running.socketPath, timeoutMs: 2_000 });
    },
    pid: process.pid,
    timeoutMs: 5_000,
    label: target === "inet" ? `inet:127.0.0.1:${server().port}` : server().socketPath,
    logger: { warn: (line) => state.warnings.push(line) },
  });
  clients.push(instance);
  return Object.assign(instance, { state });
}

beforeAll(async () => {
  requireDovecot();
  dovecot = await startDovecot();
});

afterAll(async () => {
  await Promise.all(clients.map((c) => c.close()));
  await dovecot?.remove();
});

/** Runs the client side of an exchange: each challenge goes to `respond`, until a verdict. */
async function exchange(
  auth: DovecotAuthClient,
  mechanism: string,
  options: DovecotStartOptions,
  respond: (challenge: Uint8Array, step: number) => Uint8Array,
): Promise<{ status: SaslStatus; challenges: string[] }> {
  const challenges: string[] = [];
  let { id, status } = await auth.start(mechanism, options);
  for (let step = 0; status.kind === "more"; step++) {
    challenges.push(dec(status.challenge));
    status = await auth.continue(id, respond(status.challenge, step));
  }
  return { status, challenges };
}

describe("Dovecot auth service (real dovecot)", () => {
  it("handshake: lists the mechanisms with Dovecot's security flags", async () => {
    expect(requireDovecot()).toMatch(/^2\.\d+/);
    const auth = client();
    expect(await auth.open()).toBe(true);
    const none = {
      plaintext: false,
      active: false,
      dictionary: false,
      anonymous: false,
      mutualAuth: false,
      forwardSecrecy: false,
      channelBinding: false,
      external: false,
    };
    expect(auth.mechanisms()).toEqual([
      { name: "PLAIN", properties: { ...none, plaintext: true } },
      { name: "LOGIN", properties: { ...none, plaintext: true } },
      { name: "CRAM-MD5", properties: { ...none, dictionary: true, active: true } },
      { name: "SCRAM-SHA-1", properties: { ...none, mutualAuth: true } },
      { name: "SCRAM-SHA-256", properties: { ...none, mutualAuth: true } },
    ]);
  });

  it("PLAIN: the right password authenticates, a wrong one fails with the login", async () => {
    const auth = client();
    expect(await auth.start("PLAIN", plain("alice", "alice-secret"))).toEqual({
      id: 1,
      status: { kind: "done", identity: { authcid: "alice", authzid: "alice" } },
    });
    expect((await auth.start("PLAIN", plain("alice", "wrong"))).status).toEqual({
      kind: "fail",
      reason: "authentication failure",
      login: "alice",
    });
    expect((await auth.start("PLAIN", plain("nobody", "x"))).status).toMatchObject({ kind: "fail" });
    // Dovecot verifies a plaintext password against a SCRAM-only record too.
    expect((await auth.start("PLAIN", plain("bob", "bob-secret"))).status).toMatchObject({
      kind: "done",
      identity: { authcid: "bob" },
    });
  });

  it("PLAIN over the UNIX-domain socket, with Postfix's client parameters", async () => {
    const auth = client("unix");
    const { status } = await auth.start("PLAIN", {
      ...plain("alice", "alice-secret"),
      secured: true,
      localIp: "127.0.0.1",
      remoteIp: "192.0.2.7",
      noPenalty: true,
    });
    expect(status).toMatchObject({ kind: "done", identity: { authcid: "alice" } });
  });

  it("PLAIN: an empty initial response fails, and bad input is Dovecot's verdict, not ours", async () => {
    const auth = client();
    expect((await auth.start("PLAIN", { ...SMTP, initial: new Uint8Array(0) })).status.kind).toBe("fail");
    expect((await auth.start("PLAIN", { ...SMTP, initial: enc("no-nuls") })).status.kind).toBe("fail");
  });

  it("LOGIN: two CONT steps", async () => {
    const auth = client();
    const answers = [enc("alice"), enc("alice-secret")];
    const { status, challenges } = await exchange(auth, "LOGIN", SMTP, (_, step) => answers[step] ?? enc(""));
    expect(challenges).toEqual(["Username:", "Password:"]);
    expect(status).toMatchObject({ kind: "done", identity: { authcid: "alice", authzid: "alice" } });
  });

  it("CRAM-MD5 against the PLAIN-stored user; a wrong digest and a SCRAM-only user fail", async () => {
    const auth = client();
    const cram = (user: string, password: string) => (challenge: Uint8Array) =>
      enc(`${user} ${hex(hmac(md5, enc(password), challenge))}`);
    const ok = await exchange(auth, "CRAM-MD5", SMTP, cram("alice", "alice-secret"));
    expect(ok.challenges[0]).toMatch(/^<[^>]+@[^>]+>$/);
    expect(ok.status).toMatchObject({ kind: "done", identity: { authcid: "alice" } });
    expect((await exchange(auth, "CRAM-MD5", SMTP, cram("alice", "nope"))).status).toMatchObject({
      kind: "fail",
      login: "alice",
    });
    expect((await exchange(auth, "CRAM-MD5", SMTP, cram("bob", "bob-secret"))).status.kind).toBe("fail");
  });

  /** A SCRAM-SHA-256 client (RFC 5802/7677), enough to check Dovecot's side and its signature. */
  function scram(user: string, password: string) {
    const nonce = b64(crypto.getRandomValues(new Uint8Array(18)));
    const clientFirstBare = `n=${user},r=${nonce}`;
    let expectedSignature = "";
    return {
      initial: enc(`n,,${clientFirstBare}`),
      respond(challenge: Uint8Array): Uint8Array {
        const serverMessage = dec(challenge);
        if (serverMessage.startsWith("v=")) {
          expect(serverMessage).toBe(`v=${expectedSignature}`);
          return new Uint8Array(0);
        }
        const fields = Object.fromEntries(serverMessage.split(",").map((f) => [f[0], f.slice(2)]));
        expect(fields.r?.startsWith(nonce)).toBe(true);
        const salted = pbkdf2(sha256, enc(password), Buffer.from(fields.s ?? "", "base64"), {
          c: Number(fields.i),
          dkLen: 32,
        });
        const clientKey = hmac(sha256, salted, enc("Client Key"));
        const withoutProof = `c=biws,r=${fields.r}`;
        const authMessage = enc(`${clientFirstBare},${serverMessage},${withoutProof}`);
        const signature = hmac(sha256, sha256(clientKey), authMessage);
        const proof = clientKey.map((byte, i) => byte ^ (signature[i] ?? 0));
        expectedSignature = b64(hmac(sha256, hmac(sha256, salted, enc("Server Key")), authMessage));
        return enc(`${withoutProof},p=${b64(proof)}`);
      },
      get expectedSignature() {
        return expectedSignature;
      },
    };
  }

  it("SCRAM-SHA-256: the server's v= comes as a last challenge, answered empty", async () => {
    const auth = client();
    const session = scram("bob", "bob-secret");
    const { status, challenges } = await exchange(
      auth,
      "SCRAM-SHA-256",
      { ...SMTP, initial: session.initial },
      (c) => session.respond(c),
    );
    expect(challenges).toHaveLength(2);
    expect(challenges[1]).toBe(`v=${session.expectedSignature}`);
    expect(status).toEqual({ kind: "done", identity: { authcid: "bob", authzid: "bob" } });
  });

  it("SCRAM-SHA-256 with final-resp-ok: v= arrives with OK as additional data", async () => {
    const auth = client();
    const session = scram("bob", "bob-secret");
    const { status, challenges } = await exchange(
      auth,
      "SCRAM-SHA-256",
      { ...SMTP, initial: session.initial, finalResponseOk: true },
      (c) => session.respond(c),
    );
    expect(challenges).toHaveLength(1);
    expect(status).toEqual({
      kind: "done",
      identity: { authcid: "bob", authzid: "bob" },
      final: enc(`v=${session.expectedSignature}`),
    });
  });

  it("SCRAM-SHA-256 with a wrong password fails", async () => {
    const auth = client();
    const session = scram("bob", "wrong");
    const { status } = await exchange(auth, "SCRAM-SHA-256", { ...SMTP, initial: session.initial }, (c) =>
      session.respond(c),
    );
    expect(status).toMatchObject({ kind: "fail" });
  });

  it("a passdb failure is temp (Dovecot's code=temp_fail)", async () => {
    const auth = client();
    const { status } = await auth.start("PLAIN", { ...plain("alice", "alice-secret"), service: "broken" });
    expect(status).toMatchObject({ kind: "temp", login: "alice" });
  });

  it("an unknown mechanism fails before reaching Dovecot (which would drop the connection)", async () => {
    const auth = client();
    expect((await auth.start("DIGEST-MD5", plain("alice", "x"))).status).toEqual({
      kind: "fail",
      reason: "Invalid authentication mechanism",
    });
    expect((await auth.start("PLAIN", plain("alice", "alice-secret"))).status.kind).toBe("done");
    expect(auth.state.connects).toBe(1);
  });

  it("runs many exchanges at once over one connection, each getting its own verdict", async () => {
    const auth = client();
    const logins = Array.from({ length: 3 }, () => {
      const answers = [enc("alice"), enc("alice-secret")];
      return exchange(auth, "LOGIN", SMTP, (_, step) => answers[step] ?? enc(""));
    });
    const plains = Array.from({ length: 12 }, (_, i) =>
      auth.start(
        "PLAIN",
        plain(i % 2 ? "alice" : "bob", i % 3 ? "wrong" : i % 2 ? "alice-secret" : "bob-secret"),
      ),
    );
    const scrams = Array.from({ length: 2 }, () => {
      const session = scram("bob", "bob-secret");
      return exchange(auth, "SCRAM-SHA-256", { ...SMTP, initial: session.initial }, (c) =>
        session.respond(c),
      );
    });
    const results = await Promise.all([...logins, ...scrams]);
    const verdicts = await Promise.all(plains);
    expect(results.map((r) => r.status.kind)).toEqual(["done", "done", "done", "done", "done"]);
    expect(verdicts.map((v) => v.status.kind)).toEqual(
      Array.from({ length: 12 }, (_, i) => (i % 3 ? "fail" : "done")),
    );
    expect(verdicts.map((v) => (v.status.kind === "done" ? v.status.identity.authcid : null))).toEqual(
      Array.from({ length: 12 }, (_, i) => (i % 3 ? null : i % 2 ? "alice" : "bob")),
    );
    expect(new Set(verdicts.map((v) => v.id)).size).toBe(12);
    expect(auth.state.connects).toBe(1);
  });

  it("cancel() ends an exchange on Dovecot's side too", async () => {
    const auth = client();
    const { id, status } = await auth.start("LOGIN", SMTP);
    expect(status.kind).toBe("more");
    await auth.cancel(id);
    expect((await auth.continue(id, enc("alice"))).kind).toBe("temp");
    expect((await auth.start("PLAIN", plain("alice", "alice-secret"))).status.kind).toBe("done");
  });
});

describe("Dovecot going away (real dovecot)", () => {
  const own: RunningDovecot[] = [];
  afterAll(async () => {
    await Promise.all(own.map((running) => running.remove()));
  });

  async function ownDovecot(options: { port?: number; dir?: string } = {}): Promise<RunningDovecot> {
    requireDovecot();
    const running = await startDovecot(options);
    own.push(running);
    return running;
  }

  it("a killed Dovecot is temp, never an exception; the client reconnects once it is back", async () => {
    let running = await ownDovecot();
    const auth = client("inet", () => running);
    const { id, status } = await auth.start("LOGIN", SMTP);
    expect(status.kind).toBe("more");

    await running.kill();
    // Between steps: the exchange went with the connection.
    expect(await auth.continue(id, enc("alice"))).toEqual({ kind: "temp", reason: UNAVAILABLE });
    // A new exchange cannot connect: temp, with the reason logged the Postfix way.
    expect(await auth.start("PLAIN", plain("alice", "alice-secret"))).toEqual({
      id: 0,
      status: { kind: "temp", reason: UNAVAILABLE },
    });
    expect(auth.state.warnings.at(-1)).toBe(
      `SASL: Connect to Dovecot auth socket 'inet:127.0.0.1:${running.port}' failed: connect to 127.0.0.1[127.0.0.1]:${running.port}: Connection refused`,
    );
    // The last mechanism list stays on offer meanwhile, so clients get 454 rather than no AUTH.
    expect(auth.mechanisms().map((m) => m.name)).toContain("PLAIN");

    running = await ownDovecot({ port: running.port, dir: running.dir });
    expect((await auth.start("PLAIN", plain("alice", "alice-secret"))).status.kind).toBe("done");
    expect(auth.state.connects).toBe(3);
  });

  it("a hung Dovecot times out as temp; a request in flight when it dies is temp at once", async () => {
    const running = await ownDovecot();
    const patient = client("unix", () => running);
    const hasty = new DovecotAuthClient({
      connect: () => connectNode({ host: "localhost", port: 0, tls: "off", path: running.socketPath }),
      pid: process.pid,
      timeoutMs: 300,
    });
    clients.push(hasty);
    expect(await patient.open()).toBe(true);
    expect(await hasty.open()).toBe(true);
    running.freezeAuth();

    expect((await hasty.start("PLAIN", plain("alice", "alice-secret"))).status).toEqual({
      kind: "temp",
      reason: UNAVAILABLE,
    });
    const inFlight = patient.start("PLAIN", plain("alice", "alice-secret"));
    await new Promise((resolve) => setTimeout(resolve, 50));
    const killedAt = Date.now();
    await running.kill();
    expect((await inFlight).status).toEqual({ kind: "temp", reason: UNAVAILABLE });
    expect(Date.now() - killedAt).toBeLessThan(2_000);
    expect(patient.state.warnings.at(-1)).toMatch(/^SASL: Connection lost to Dovecot auth socket '.*': /);
  });
});
