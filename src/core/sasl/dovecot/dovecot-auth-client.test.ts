// The client against a scripted Dovecot over the in-memory socket pair: what goes on the wire,
// how replies map to statuses, and that every network or protocol problem ends as temp.
import { afterEach, describe, expect, it } from "vitest";
import { type MemorySocket, memorySocketPair } from "../../net/memory-socket.ts";
import type { Socket } from "../../net/socket.ts";
import { DovecotAuthClient, type DovecotAuthClientOptions, UNAVAILABLE } from "./dovecot-auth-client.ts";

const enc = (text: string) => new TextEncoder().encode(text);
const b64 = (text: string) => btoa(text);

const HANDSHAKE = [
  "VERSION\t1\t2",
  "MECH\tPLAIN\tplaintext",
  "MECH\tLOGIN\tplaintext",
  "MECH\tCRAM-MD5\tdictionary\tactive",
  "MECH\tAPOP\tprivate",
  "MECH\tSCRAM-SHA-256\tmutual-auth",
  "SPID\t4711",
  "CUID\t1",
  "COOKIE\t0123456789abcdef0123456789abcdef",
  "DONE",
];

/** The server end of one connection: reads the client's lines, writes raw text. */
class Peer {
  readonly socket: MemorySocket;
  #buffer = "";
  #decoder = new TextDecoder();

  constructor(socket: MemorySocket) {
    this.socket = socket;
  }

  /** The next line the client wrote (without LF), or null at end of stream. */
  async line(): Promise<string | null> {
    for (;;) {
      const lf = this.#buffer.indexOf("\n");
      if (lf !== -1) {
        const line = this.#buffer.slice(0, lf);
        this.#buffer = this.#buffer.slice(lf + 1);
        return line;
      }
      const chunk = await this.socket.read();
      if (chunk === null) return null;
      this.#buffer += this.#decoder.decode(chunk);
    }
  }

  send(text: string): Promise<void> {
    return this.socket.write(enc(text));
  }

  /** Answers the next request line with `reply` (a function of the line, for the id). */
  async answer(reply: (line: string) => string): Promise<string> {
    const line = await this.line();
    if (line === null) throw new Error("client closed");
    await this.send(`${reply(line)}\n`);
    return line;
  }
}

type Greeting = string[] | "none";

class FakeDovecot {
  readonly peers: Peer[] = [];
  greeting: Greeting = HANDSHAKE;
  refuse: Error | null = null;
  /** Wraps the client end, e.g. to fail a write. */
  wrap: (socket: Socket) => Socket = (socket) => socket;

  readonly connect = async (): Promise<Socket> => {
    if (this.refuse) throw this.refuse;
    const [client, server] = memorySocketPair();
    const peer = new Peer(server);
    this.peers.push(peer);
    // Dovecot sends its half of the handshake at once, without waiting for ours.
    if (this.greeting !== "none") await peer.send(`${this.greeting.join("\n")}\n`);
    return this.wrap(client);
  };

  peer(index = -1): Peer {
    const peer = this.peers.at(index);
    if (!peer) throw new Error("no connection yet");
    return peer;
  }
}

const clients: DovecotAuthClient[] = [];
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
});

function setup(options: Partial<DovecotAuthClientOptions> = {}) {
  const dovecot = new FakeDovecot();
  const warnings: string[] = [];
  const client = new DovecotAuthClient({
    connect: dovecot.connect,
    pid: 4242,
    label: "inet:127.0.0.1:12345",
    logger: { warn: (line) => warnings.push(line) },
    ...options,
  });
  clients.push(client);
  return { dovecot, client, warnings };
}

const PLAIN = { initial: enc("\0alice\0secret"), service: "smtp", secured: false };

describe("DovecotAuthClient: handshake", () => {
  it("greets with VERSION 1 2 and CPID, and lists the mechanisms with Dovecot's flags", async () => {
    const { dovecot, client } = setup();
    expect(client.mechanisms()).toEqual([]);
    expect(await client.open()).toBe(true);
    const peer = dovecot.peer();
    expect([await peer.line(), await peer.line()]).toEqual(["VERSION\t1\t2", "CPID\t4242"]);
    const mechanisms = client.mechanisms();
    expect(mechanisms.map((m) => m.name)).toEqual(["PLAIN", "LOGIN", "CRAM-MD5", "SCRAM-SHA-256"]);
    expect(mechanisms.find((m) => m.name === "CRAM-MD5")?.properties).toMatchObject({
      plaintext: false,
      dictionary: true,
      active: true,
    });
    expect(mechanisms.find((m) => m.name === "PLAIN")?.properties.plaintext).toBe(true);
    expect(mechanisms.find((m) => m.name === "SCRAM-SHA-256")?.properties.mutualAuth).toBe(true);
  });

  it("opens once for concurrent callers", async () => {
    const { dovecot, client } = setup();
    expect(await Promise.all([client.open(), client.open(), client.open()])).toEqual([true, true, true]);
    expect(dovecot.peers).toHaveLength(1);
  });

  it("waits for a handshake sent in pieces, unknown lines included", async () => {
    const { dovecot, client } = setup();
    dovecot.greeting = "none";
    const opening = client.open();
    await new Promise((resolve) => setTimeout(resolve, 5));
    const peer = dovecot.peer();
    await peer.send("VERSION\t1\t2\nMEC");
    await peer.send("H\tPLAIN\tplaintext\nX-FUTURE\tthing\nSPID\t1\nCUID\t2\nCOOKIE\tc\n");
    await peer.send("DONE\n");
    expect(await opening).toBe(true);
    expect(client.mechanisms().map((m) => m.name)).toEqual(["PLAIN"]);
  });

  const failures: { name: string; greeting: string[]; warning: RegExp }[] = [
    {
      name: "another major version",
      greeting: ["VERSION\t2\t0", "MECH\tPLAIN", "DONE"],
      warning: /Protocol version mismatch \(2 vs. 1\)/,
    },
    { name: "a bad VERSION line", greeting: ["VERSION\tx\ty"], warning: /Protocol version error/ },
    { name: "DONE without VERSION", greeting: ["MECH\tPLAIN", "DONE"], warning: /without a VERSION line/ },
  ];
  for (const { name, greeting, warning } of failures) {
    it(`refuses ${name}`, async () => {
      const { dovecot, client, warnings } = setup();
      dovecot.greeting = greeting;
      expect(await client.open()).toBe(false);
      expect(warnings.join("\n")).toMatch(warning);
      expect(warnings[0]).toMatch(/^SASL: Connect to Dovecot auth socket 'inet:127.0.0.1:12345' failed: /);
      expect(
        await dovecot
          .peer()
          .socket.read()
          .then((b) => b && new TextDecoder().decode(b)),
      ).toMatch(/^VERSION/);
    });
  }

  it("gives up on a handshake that never ends", async () => {
    const { dovecot, client, warnings } = setup({ timeoutMs: 50 });
    dovecot.greeting = ["VERSION\t1\t2", "MECH\tPLAIN"];
    expect(await client.open()).toBe(false);
    expect(warnings[0]).toMatch(/handshake timed out$/);
  });

  it("names the likely mistake when the socket is auth-master (SPID, no MECH)", async () => {
    const { dovecot, client, warnings } = setup({ timeoutMs: 50 });
    dovecot.greeting = ["VERSION\t1\t2", "SPID\t77"];
    expect(await client.open()).toBe(false);
    expect(warnings[0]).toMatch(/auth-master/);
  });

  it("is unavailable when the connection closes during the handshake", async () => {
    const { dovecot, client, warnings } = setup();
    dovecot.greeting = ["VERSION\t1\t2"];
    const opening = client.open();
    await new Promise((resolve) => setTimeout(resolve, 5));
    await dovecot.peer().socket.close();
    expect(await opening).toBe(false);
    expect(warnings[0]).toMatch(/connection closed by the server/);
  });

  it("is unavailable, with the connect error logged, when the service cannot be reached", async () => {
    const { dovecot, client, warnings } = setup();
    dovecot.refuse = new Error("connect to 127.0.0.1[127.0.0.1]:12345: Connection refused");
    expect(await client.start("PLAIN", PLAIN)).toEqual({
      id: 0,
      status: { kind: "temp", reason: UNAVAILABLE },
    });
    expect(warnings).toEqual([
      "SASL: Connect to Dovecot auth socket 'inet:127.0.0.1:12345' failed: connect to 127.0.0.1[127.0.0.1]:12345: Connection refused",
    ]);
  });

  it("times out a connect that hangs", async () => {
    const { client, warnings } = setup({ timeoutMs: 30, connect: () => new Promise<Socket>(() => {}) });
    expect(await client.open()).toBe(false);
    expect(warnings[0]).toMatch(/Connection timed out/);
  });
});

describe("DovecotAuthClient: exchanges", () => {
  it("PLAIN: sends AUTH with Postfix's parameters and maps OK to done", async () => {
    const { dovecot, client } = setup();
    const starting = client.start("plain", {
      ...PLAIN,
      secured: true,
      localIp: "192.0.2.1",
      remoteIp: "2001:db8::7",
      noPenalty: true,
      validClientCert: true,
    });
    await client.open();
    const peer = dovecot.peer();
    await peer.line();
    await peer.line();
    const line = await peer.answer(() => "OK\t1\tuser=alice\toriginal_user=Alice");
    expect(line).toBe(
      `AUTH\t1\tPLAIN\tservice=smtp\tnologin\tsecured\tvalid-client-cert\tno-penalty\tlip=192.0.2.1\trip=2001:db8::7\tresp=${b64("\0alice\0secret")}`,
    );
    expect(await starting).toEqual({
      id: 1,
      status: { kind: "done", identity: { authcid: "alice", authzid: "alice" } },
    });
  });

  it("LOGIN: no initial response, two CONT steps, an empty challenge and response travel as empty", async () => {
    const { dovecot, client } = setup();
    await client.open();
    const peer = dovecot.peer();
    await peer.line();
    await peer.line();

    const started = client.start("LOGIN", { initial: null, service: "smtp", secured: false });
    expect(await peer.answer((l) => `CONT\t${l.split("\t")[1]}\t${b64("Username:")}`)).toBe(
      "AUTH\t1\tLOGIN\tservice=smtp\tnologin",
    );
    const { id, status } = await started;
    expect(status).toEqual({ kind: "more", challenge: enc("Username:") });

    const second = client.continue(id, enc("alice"));
    expect(await peer.answer(() => `CONT\t${id}\t`)).toBe(`CONT\t1\t${b64("alice")}`);
    expect(await second).toEqual({ kind: "more", challenge: enc("") });

    const third = client.continue(id, enc(""));
    expect(await peer.answer(() => `OK\t${id}\tuser=alice`)).toBe("CONT\t1\t");
    expect((await third).kind).toBe("done");
    // The exchange is over: its id is no longer usable.
    expect(await client.continue(id, enc("x"))).toMatchObject({ kind: "temp" });
  });

  it("an empty initial response is sent as an empty resp=", async () => {
    const { dovecot, client } = setup();
    const started = client.start("PLAIN", { initial: new Uint8Array(0), service: "smtp", secured: false });
    await client.open();
    const peer = dovecot.peer();
    await peer.line();
    await peer.line();
    expect(await peer.answer(() => "FAIL\t1")).toBe("AUTH\t1\tPLAIN\tservice=smtp\tnologin\tresp=");
    await started;
  });

  it("asks for final data on OK when told to, and returns it with done", async () => {
    const { dovecot, client } = setup();
    const started = client.start("SCRAM-SHA-256", {
      initial: enc("n,,n=bob,r=abc"),
      service: "smtp",
      secured: true,
      finalResponseOk: true,
    });
    await client.open();
    const peer = dovecot.peer();
    await peer.line();
    await peer.line();
    expect(await peer.answer(() => `OK\t1\tuser=bob\tresp=${b64("v=c2lnbmF0dXJl")}`)).toContain(
      "\tfinal-resp-ok\tsecured\t",
    );
    expect(await started).toEqual({
      id: 1,
      status: { kind: "done", identity: { authcid: "bob", authzid: "bob" }, final: enc("v=c2lnbmF0dXJl") },
    });
  });

  const verdicts = [
    {
      name: "FAIL with user and reason",
      reply: "FAIL\t1\tuser=alice\treason=Password expired",
      want: { kind: "fail", reason: "Password expired", login: "alice" },
    },
    { name: "a bare FAIL", reply: "FAIL\t1", want: { kind: "fail", reason: "authentication failure" } },
    {
      name: "FAIL code=temp_fail (Dovecot 2.3)",
      reply: "FAIL\t1\tuser=alice\tcode=temp_fail",
      want: { kind: "temp", reason: "Dovecot auth backend failure", login: "alice" },
    },
    {
      name: "FAIL temp (older Dovecot)",
      reply: "FAIL\t1\ttemp\treason=LDAP down",
      want: { kind: "temp", reason: "LDAP down" },
    },
    {
      name: "OK without user (a backend error, as in Postfix)",
      reply: "OK\t1",
      want: { kind: "fail", reason: "Authentication backend error" },
    },
    {
      name: "an escaped user",
      reply: "OK\t1\tuser=j\x01tx\x011y",
      want: { kind: "done", identity: { authcid: "j\tx\x01y", authzid: "j\tx\x01y" } },
    },
    {
      name: "a reason with control characters is made printable",
      reply: "FAIL\t1\treason=bad\x01nthing",
      want: { kind: "fail", reason: "bad?thing" },
    },
  ];
  for (const { name, reply, want } of verdicts) {
    it(`maps ${name}`, async () => {
      const { dovecot, client } = setup();
      const started = client.start("PLAIN", PLAIN);
      await client.open();
      const peer = dovecot.peer();
      await peer.line();
      await peer.line();
      await peer.answer(() => reply);
      expect((await started).status).toEqual(want);
    });
  }

  it("refuses a mechanism Dovecot did not offer without sending anything (Dovecot would hang up)", async () => {
    const { dovecot, client } = setup();
    expect(await client.start("DIGEST-MD5", PLAIN)).toEqual({
      id: 0,
      status: { kind: "fail", reason: "Invalid authentication mechanism" },
    });
    expect(await client.start("APOP", PLAIN)).toMatchObject({ id: 0, status: { kind: "fail" } });
    const peer = dovecot.peer();
    await peer.line();
    await peer.line();
    await client.close();
    expect(await peer.line()).toBeNull();
  });

  it("escapes what the caller passes, so a field cannot be forged", async () => {
    const { dovecot, client } = setup();
    const started = client.start("PLAIN", {
      ...PLAIN,
      service: "smtp\tsecured",
      remoteIp: "1.2.3.4\nAUTH\t9\tPLAIN",
    });
    await client.open();
    const peer = dovecot.peer();
    await peer.line();
    await peer.line();
    const line = await peer.answer(() => "FAIL\t1");
    expect(line).toBe(
      `AUTH\t1\tPLAIN\tservice=smtp\x01tsecured\tnologin\trip=1.2.3.4\x01nAUTH\x01t9\x01tPLAIN\tresp=${b64("\0alice\0secret")}`,
    );
    await started;
  });

  it("runs exchanges concurrently on one connection, matching replies by id", async () => {
    const { dovecot, client } = setup();
    await client.open();
    const peer = dovecot.peer();
    await peer.line();
    await peer.line();
    const first = client.start("PLAIN", PLAIN);
    const second = client.start("LOGIN", { initial: null, service: "smtp", secured: false });
    const third = client.start("PLAIN", { ...PLAIN, initial: enc("\0bob\0x") });
    const lines = [await peer.line(), await peer.line(), await peer.line()];
    expect(lines.map((l) => l?.split("\t").slice(0, 3).join(" "))).toEqual([
      "AUTH 1 PLAIN",
      "AUTH 2 LOGIN",
      "AUTH 3 PLAIN",
    ]);
    // Out of order, with a reply for an id nobody asked about and a command we do not know.
    await peer.send(
      `FAIL\t3\tuser=bob\nOK\t99\tuser=mallory\nCONT\t2\t${b64("Username:")}\nNOTIFY\tx\nOK\t1\tuser=alice\n`,
    );
    expect(await first).toMatchObject({ id: 1, status: { kind: "done", identity: { authcid: "alice" } } });
    expect(await second).toMatchObject({ id: 2, status: { kind: "more" } });
    expect(await third).toMatchObject({ id: 3, status: { kind: "fail", login: "bob" } });
    expect(dovecot.peers).toHaveLength(1);
  });

  it("cancel() tells Dovecot to forget the exchange", async () => {
    const { dovecot, client } = setup();
    await client.open();
    const peer = dovecot.peer();
    await peer.line();
    await peer.line();
    const started = client.start("LOGIN", { initial: null, service: "smtp", secured: false });
    await peer.answer(() => `CONT\t1\t${b64("Username:")}`);
    const { id } = await started;
    await client.cancel(id);
    expect(await peer.line()).toBe("CANCEL\t1");
    expect(await client.continue(id, enc("alice"))).toMatchObject({ kind: "temp" });
  });

  it("refuses a response longer than the line limit as malformed, without sending it", async () => {
    const { dovecot, client } = setup({ maxLineBytes: 200 });
    await client.open();
    const peer = dovecot.peer();
    await peer.line();
    await peer.line();
    expect(await client.start("PLAIN", { ...PLAIN, initial: new Uint8Array(200) })).toMatchObject({
      id: 0,
      status: { kind: "malformed" },
    });
    const started = client.start("LOGIN", { initial: null, service: "smtp", secured: false });
    await peer.answer((line) => `CONT\t${line.split("\t")[1]}\t${b64("Username:")}`);
    const { id } = await started;
    expect(await client.continue(id, new Uint8Array(200))).toMatchObject({ kind: "malformed" });
    expect(await peer.line()).toBe(`CANCEL\t${id}`);
  });
});

describe("DovecotAuthClient: trouble is temp, never an exception", () => {
  async function opened(options: Partial<DovecotAuthClientOptions> = {}) {
    const setupResult = setup(options);
    await setupResult.client.open();
    const peer = setupResult.dovecot.peer();
    await peer.line();
    await peer.line();
    return { ...setupResult, peer };
  }

  it("garbage from the server: temp for everyone waiting, and the next request reconnects", async () => {
    const { dovecot, client, peer, warnings } = await opened();
    const first = client.start("PLAIN", PLAIN);
    const second = client.start("PLAIN", PLAIN);
    await peer.line();
    await peer.line();
    await peer.send("CONT\tnot-a-number\tx\n");
    expect((await first).status).toEqual({ kind: "temp", reason: UNAVAILABLE });
    expect((await second).status).toEqual({ kind: "temp", reason: UNAVAILABLE });
    expect(warnings.at(-1)).toMatch(/Connection lost.*protocol error: CONT without a valid request id/);
    expect(await peer.line()).toBeNull(); // we hung up

    const third = client.start("PLAIN", PLAIN);
    await new Promise((resolve) => setTimeout(resolve, 5));
    expect(dovecot.peers).toHaveLength(2);
    const fresh = dovecot.peer();
    await fresh.line();
    await fresh.line();
    // Ids keep increasing over the new connection, so an old id never names a new exchange.
    expect(await fresh.answer(() => "OK\t3\tuser=alice")).toMatch(/^AUTH\t3\t/);
    expect((await third).status.kind).toBe("done");
  });

  it("end of stream while waiting: temp", async () => {
    const { client, peer } = await opened();
    const started = client.start("PLAIN", PLAIN);
    await peer.line();
    await peer.socket.close();
    expect((await started).status).toEqual({ kind: "temp", reason: UNAVAILABLE });
  });

  it("a reset while waiting: temp", async () => {
    const { client, peer } = await opened();
    const started = client.start("PLAIN", PLAIN);
    await peer.line();
    peer.socket.abort(new Error("connection reset by peer"));
    expect((await started).status).toEqual({ kind: "temp", reason: UNAVAILABLE });
  });

  it("an exchange whose connection died between steps: temp", async () => {
    const { client, peer } = await opened();
    const started = client.start("LOGIN", { initial: null, service: "smtp", secured: false });
    await peer.answer(() => `CONT\t1\t${b64("Username:")}`);
    const { id } = await started;
    await peer.socket.close();
    await new Promise((resolve) => setTimeout(resolve, 5));
    expect(await client.continue(id, enc("alice"))).toEqual({ kind: "temp", reason: UNAVAILABLE });
  });

  it("no reply in time: temp, the request is cancelled, a late reply is ignored, the connection lives on", async () => {
    const { dovecot, client, peer, warnings } = await opened({ timeoutMs: 40 });
    const started = await client.start("PLAIN", PLAIN);
    expect(started.status).toEqual({ kind: "temp", reason: UNAVAILABLE });
    expect(warnings.at(-1)).toMatch(/did not answer request 1 within 40 ms/);
    expect(await peer.line()).toMatch(/^AUTH\t1\t/);
    expect(await peer.line()).toBe("CANCEL\t1");
    await peer.send("OK\t1\tuser=alice\n");

    const next = client.start("PLAIN", PLAIN);
    expect(await peer.answer(() => "FAIL\t2")).toMatch(/^AUTH\t2\t/);
    expect((await next).status.kind).toBe("fail");
    expect(dovecot.peers).toHaveLength(1);
  });

  it("an over-long line: temp", async () => {
    const { client, peer, warnings } = await opened({ maxLineBytes: 100 });
    const started = client.start("PLAIN", PLAIN);
    await peer.line();
    await peer.send(`CONT\t1\t${"A".repeat(200)}`);
    expect((await started).status).toEqual({ kind: "temp", reason: UNAVAILABLE });
    expect(warnings.at(-1)).toMatch(/line too long/);
  });

  it("a write to a connection that died unnoticed is retried once on a fresh one", async () => {
    const { dovecot, client, warnings } = setup();
    let writes = 0;
    dovecot.wrap = (socket) => ({
      read: () => socket.read(),
      write: (bytes) => (++writes === 2 ? Promise.reject(new Error("EPIPE")) : socket.write(bytes)),
      startTls: () => socket.startTls(),
      close: () => socket.close(),
      secure: false,
    });
    const started = client.start("PLAIN", PLAIN);
    await new Promise((resolve) => setTimeout(resolve, 5));
    expect(dovecot.peers).toHaveLength(2);
    const fresh = dovecot.peer();
    await fresh.line();
    await fresh.line();
    expect(await fresh.answer(() => "OK\t2\tuser=alice")).toMatch(/^AUTH\t2\t/);
    expect((await started).status.kind).toBe("done");
    expect(warnings[0]).toMatch(/Couldn't send request.*write failed: EPIPE/);
  });

  it("continue() on an id that is not in progress: temp", async () => {
    const { client } = setup();
    expect(await client.continue(12, enc("x"))).toEqual({
      kind: "temp",
      reason: "Dovecot auth request 12 is not in progress",
    });
  });

  it("close(): requests in flight end as temp, later ones too, without connecting", async () => {
    const { dovecot, client, peer } = await opened();
    const started = client.start("PLAIN", PLAIN);
    await peer.line();
    await client.close();
    expect((await started).status).toEqual({ kind: "temp", reason: UNAVAILABLE });
    expect(await client.start("PLAIN", PLAIN)).toEqual({
      id: 0,
      status: { kind: "temp", reason: UNAVAILABLE },
    });
    expect(await client.open()).toBe(false);
    expect(dovecot.peers).toHaveLength(1);
  });
});
