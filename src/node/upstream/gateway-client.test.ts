// GatewayClient against real TCP servers written for the case: a kept-alive connection the server
// resets instead of answering (the idle-timeout race) is retried once on a new connection; a
// refused connection and a silent server are GatewayUnavailable, never an answer.
import net from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { GatewayClient, GatewayUnavailable } from "./gateway-client.ts";

const servers: net.Server[] = [];
afterEach(async () => {
  for (const server of servers.splice(0)) await new Promise((resolve) => server.close(resolve));
});

/** Each connection gets `plan(connectionNumber, requestNumberOnIt)`: an answer body, or "reset". */
async function server(plan: (connection: number, request: number) => string | "reset" | "silent") {
  let connections = 0;
  const srv = net.createServer((socket) => {
    const connection = ++connections;
    let requests = 0;
    let buffer = "";
    socket.on("error", () => {});
    socket.on("data", (chunk) => {
      buffer += chunk.toString("latin1");
      while (buffer.includes("\r\n\r\n")) {
        buffer = buffer.slice(buffer.indexOf("\r\n\r\n") + 4);
        const what = plan(connection, ++requests);
        if (what === "reset") return socket.resetAndDestroy();
        if (what === "silent") return;
        socket.write(
          `HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: ${what.length}\r\nconnection: keep-alive\r\n\r\n${what}`,
        );
      }
    });
  });
  servers.push(srv);
  await new Promise<void>((resolve) => srv.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(srv.address() as net.AddressInfo).port}`,
    connections: () => connections,
  };
}

describe("GatewayClient", () => {
  it("a kept-alive connection reset before any answer: sent again once, on a new connection", async () => {
    const gateway = await server((connection, request) =>
      connection === 1 && request === 2 ? "reset" : JSON.stringify({ connection, request }),
    );
    const client = new GatewayClient({ url: gateway.url, timeoutMs: 5000 });
    try {
      expect((await client.request({ method: "GET", path: "/x" })).json).toEqual({
        connection: 1,
        request: 1,
      });
      const again = await client.request({ method: "POST", path: "/x", body: "{}" });
      expect(again.json).toEqual({ connection: 2, request: 1 });
      expect(gateway.connections()).toBe(2);
    } finally {
      client.close();
    }
  });

  it("only a reused connection is retried: a reset on a fresh one is GatewayUnavailable at once", async () => {
    const gateway = await server((_connection, request) => (request === 1 ? "{}" : "reset"));
    const client = new GatewayClient({ url: gateway.url, timeoutMs: 5000 });
    try {
      await client.request({ method: "GET", path: "/x" });
      // The retry gets a new connection whose first request is answered.
      expect((await client.request({ method: "GET", path: "/x" })).status).toBe(200);
    } finally {
      client.close();
    }
    const always = await server(() => "reset");
    const strict = new GatewayClient({ url: always.url, timeoutMs: 5000 });
    try {
      // A fresh connection reset is not the keep-alive race: no retry.
      await expect(strict.request({ method: "GET", path: "/x" })).rejects.toBeInstanceOf(GatewayUnavailable);
      expect(always.connections()).toBe(1);
    } finally {
      strict.close();
    }
  });

  it("connection refused and a silent server are GatewayUnavailable", async () => {
    const closed = net.createServer();
    await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", resolve));
    const port = (closed.address() as net.AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const refused = new GatewayClient({ url: `http://127.0.0.1:${port}`, timeoutMs: 5000 });
    await expect(refused.request({ method: "GET", path: "/x" })).rejects.toThrow(/ECONNREFUSED/);
    refused.close();

    const silent = await server(() => "silent");
    const waiting = new GatewayClient({ url: silent.url, timeoutMs: 300 });
    await expect(waiting.request({ method: "GET", path: "/x" })).rejects.toBeInstanceOf(GatewayUnavailable);
    waiting.close();
  });
});
