// One contract for every Socket: the in-memory pair the unit tests use and the node:net/node:tls
// socket of the Node runtime must behave alike where the core can tell (DESIGN "Boundaries").
// The Workers socket (src/worker/connect-socket.ts) needs workerd, so it is not in this file yet.
import { once } from "node:events";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import tls from "node:tls";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { memorySocketPair } from "../../src/core/net/memory-socket.ts";
import { ConnectError, type Socket } from "../../src/core/net/socket.ts";
import { acceptedNodeSocket, connectNode } from "../../src/node/net-socket.ts";
import { makeTestCertificates } from "../smarthost/certificates.ts";

const certificates = makeTestCertificates(path.resolve(".wrangler/test-certs"));
const ca = readFileSync(certificates.caFile);
const serverTls = { key: readFileSync(certificates.keyFile), cert: readFileSync(certificates.certFile) };
const secureContext = tls.createSecureContext(serverTls);

const enc = (text: string) => new TextEncoder().encode(text);
const dec = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Reads until `text.length` bytes arrived: TCP may split or join writes, the memory pair never does. */
async function readText(socket: Socket, length: number): Promise<string> {
  let text = "";
  while (text.length < length) {
    const chunk = await socket.read();
    if (chunk === null) break;
    text += dec(chunk);
  }
  return text;
}

/** Everything until end of stream. */
async function readAll(socket: Socket): Promise<string> {
  let text = "";
  for (let chunk = await socket.read(); chunk !== null; chunk = await socket.read()) text += dec(chunk);
  return text;
}

interface Pair {
  /** The side that connected ("client") and the side that accepted ("server"). */
  client: Socket;
  server: Socket;
  /** A connection reset as the server's side sees it happen. */
  reset(): void;
}

interface Implementation {
  name: string;
  pair(): Promise<Pair>;
}

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** Listens on 127.0.0.1 (or a path) and, after the test, drops every connection and stops. */
async function listen<T extends net.Server>(listener: T, where?: string): Promise<T> {
  const open = new Set<net.Socket>();
  listener.on("connection", (raw: net.Socket) => {
    open.add(raw);
    raw.on("close", () => open.delete(raw));
  });
  if (where === undefined) listener.listen(0, "127.0.0.1");
  else listener.listen(where);
  await once(listener, "listening");
  cleanups.push(
    () =>
      new Promise<void>((resolve) => {
        for (const raw of open) raw.destroy();
        listener.close(() => resolve());
      }),
  );
  return listener;
}

function portOf(listener: net.Server): number {
  return (listener.address() as net.AddressInfo).port;
}

const memory: Implementation = {
  name: "memory pair",
  async pair() {
    const [client, server] = memorySocketPair();
    return { client, server, reset: () => server.abort(new Error("connection reset by peer")) };
  },
};

const node: Implementation = {
  name: "node:net socket",
  async pair() {
    const listener = await listen(net.createServer());
    const accepted = once(listener, "connection") as Promise<[net.Socket]>;
    const port = portOf(listener);
    const client = await connectNode({
      host: "127.0.0.1",
      port,
      tls: "starttls",
      ca,
      servername: "localhost",
    });
    const [raw] = await accepted;
    const server = acceptedNodeSocket(raw, { secureContext });
    return { client, server, reset: () => raw.resetAndDestroy() };
  },
};

for (const implementation of [memory, node]) {
  describe(`Socket contract: ${implementation.name}`, () => {
    it("delivers bytes both ways, in order", async () => {
      const { client, server } = await implementation.pair();
      await client.write(enc("one"));
      await client.write(enc("two"));
      await server.write(enc("back"));
      expect(await readText(server, 6)).toBe("onetwo");
      expect(await readText(client, 4)).toBe("back");
      expect([client.secure, server.secure]).toEqual([false, false]);
    });

    it("wakes a pending read", async () => {
      const { client, server } = await implementation.pair();
      const reading = server.read();
      await sleep(5);
      await client.write(enc("x"));
      expect(dec((await reading) ?? new Uint8Array())).toBe("x");
    });

    it("close: the peer drains what was sent, then sees end of stream; our own reads give null", async () => {
      const { client, server } = await implementation.pair();
      const pending = server.read();
      await client.write(enc("last"));
      await client.close();
      expect(dec((await pending) ?? new Uint8Array()) + (await readAll(server))).toBe("last");
      expect(await server.read()).toBeNull();
      expect(await client.read()).toBeNull();
      await expect(client.write(enc("after"))).rejects.toThrow(/closed/);
    });

    it("close: a read pending on our own side resolves null", async () => {
      const { client } = await implementation.pair();
      const pending = client.read();
      await client.close();
      expect(await pending).toBeNull();
    });

    it("a reset rejects the peer's reads", async () => {
      const { client, reset } = await implementation.pair();
      const pending = client.read();
      reset();
      await expect(pending).rejects.toThrow(/reset/i);
    });

    it("startTls: both ends move to TLS; the old sockets are unusable", async () => {
      const { client, server } = await implementation.pair();
      await server.write(enc("220 go ahead\r\n"));
      expect(await readText(client, 14)).toBe("220 go ahead\r\n");
      const [client2, server2] = await Promise.all([client.startTls(), server.startTls()]);
      expect([client.secure, server.secure, client2.secure, server2.secure]).toEqual([
        false,
        false,
        true,
        true,
      ]);
      await server2.write(enc("250 real"));
      expect(await readText(client2, 8)).toBe("250 real");
      await client2.write(enc("EHLO"));
      expect(await readText(server2, 4)).toBe("EHLO");
      await expect(client.read()).rejects.toThrow(/upgraded/);
      await expect(client.write(enc("x"))).rejects.toThrow(/upgraded/);
      await client2.close();
      expect(await readAll(server2)).toBe("");
    });

    it("startTls drops plaintext that arrived unread before the upgrade (RFC 3207 §6)", async () => {
      const { client, server } = await implementation.pair();
      await server.write(enc("220 go ahead\r\n"));
      expect(await readText(client, 14)).toBe("220 go ahead\r\n");
      await server.write(enc("250 injected\r\n"));
      await sleep(50); // let it reach the client's buffers
      const [client2, server2] = await Promise.all([client.startTls(), server.startTls()]);
      await server2.write(enc("250 real"));
      expect(await readText(client2, 8)).toBe("250 real");
    });
  });
}

describe("connectNode", () => {
  const scratch = mkdtempSync(path.join(tmpdir(), "postern-socket-"));
  afterAll(() => rmSync(scratch, { recursive: true, force: true }));

  async function freePort(): Promise<number> {
    const probe = net.createServer().listen(0, "127.0.0.1");
    await once(probe, "listening");
    const { port } = probe.address() as net.AddressInfo;
    await new Promise<void>((resolve) => probe.close(() => resolve()));
    return port;
  }

  it("says why in Postfix's words when the connection is refused", async () => {
    const port = await freePort();
    const failure = connectNode({ host: "127.0.0.1", port, tls: "off" });
    await expect(failure).rejects.toBeInstanceOf(ConnectError);
    await expect(failure).rejects.toMatchObject({
      message: `connect to 127.0.0.1[127.0.0.1]:${port}: Connection refused`,
      code: "ERR_CONNECT",
      transient: true,
    });
  });

  it("connects to a UNIX-domain socket", async () => {
    const socketPath = path.join(scratch, "echo.sock");
    await listen(
      net.createServer((raw) => raw.pipe(raw)),
      socketPath,
    );
    const socket = await connectNode({ host: "localhost", port: 0, tls: "off", path: socketPath });
    await socket.write(enc("ping"));
    expect(await readText(socket, 4)).toBe("ping");
    await socket.close();
  });

  it("names the path when a UNIX-domain socket is missing", async () => {
    const socketPath = path.join(scratch, "missing.sock");
    await expect(
      connectNode({ host: "localhost", port: 0, tls: "off", path: socketPath }),
    ).rejects.toMatchObject({
      message: `connect to ${socketPath}: No such file or directory`,
    });
  });

  async function tlsServer(): Promise<number> {
    return portOf(await listen(tls.createServer(serverTls, (raw) => raw.pipe(raw))));
  }

  it("tls on: implicit TLS, verified against the given CA", async () => {
    const port = await tlsServer();
    const socket = await connectNode({ host: "127.0.0.1", port, tls: "on", ca, servername: "localhost" });
    expect(socket.secure).toBe(true);
    await socket.write(enc("hello"));
    expect(await readText(socket, 5)).toBe("hello");
    await expect(socket.startTls()).rejects.toThrow(/cannot start TLS/);
    await socket.close();
  });

  // The test CA is trusted process-wide (NODE_EXTRA_CA_CERTS, for workerd), so "untrusted" is a
  // CA list without it: the server's own certificate, which is no CA.
  const untrusted = serverTls.cert;

  it("tls on: an untrusted certificate fails the connect", async () => {
    const port = await tlsServer();
    await expect(connectNode({ host: "127.0.0.1", port, tls: "on", ca: untrusted })).rejects.toMatchObject({
      code: "ERR_CONNECT",
      message: expect.stringMatching(
        new RegExp(`^connect to 127\\.0\\.0\\.1\\[127\\.0\\.0\\.1\\]:${port}: .*certificate`),
      ),
    });
  });

  it("tls on: a certificate for another name fails the connect", async () => {
    const port = await tlsServer();
    await expect(
      connectNode({ host: "127.0.0.1", port, tls: "on", ca, servername: "mail.example.com" }),
    ).rejects.toThrow(/mail\.example\.com/);
  });

  it("starttls: a failed handshake rejects startTls() with ERR_TLS", async () => {
    const listener = await listen(net.createServer());
    const accepted = once(listener, "connection") as Promise<[net.Socket]>;
    const client = await connectNode({
      host: "127.0.0.1",
      port: portOf(listener),
      tls: "starttls",
      ca: untrusted,
    });
    const [raw] = await accepted;
    const server = acceptedNodeSocket(raw, { secureContext });
    const [upgraded] = await Promise.allSettled([client.startTls(), server.startTls()]);
    expect(upgraded).toMatchObject({ status: "rejected", reason: { code: "ERR_TLS" } });
    expect((upgraded as PromiseRejectedResult).reason.message).toMatch(
      /^TLS handshake failed: .*certificate/,
    );
  });

  it("gives up on a connect after timeoutMs", async () => {
    // A plain TCP listener that never answers the ClientHello makes an implicit-TLS connect hang.
    const port = portOf(await listen(net.createServer()));
    const started = Date.now();
    await expect(connectNode({ host: "127.0.0.1", port, tls: "on", timeoutMs: 100 })).rejects.toMatchObject({
      message: `connect to 127.0.0.1[127.0.0.1]:${port}: Connection timed out`,
    });
    expect(Date.now() - started).toBeLessThan(2_000);
  });
});
