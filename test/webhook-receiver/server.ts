// A real HTTP webhook receiver for the tests, run inside the vitest process by global-setup.ts.
//   POST /hook/<name>           records the request (headers, raw body), answers the next scripted
//                               status for <name> (default 200)
//   PUT  /_script/<name>        {"statuses":[500,503], "afterwards":200}: the answers to give, in order
//   GET  /_requests/<name>      what <name> received, oldest first
import http from "node:http";
import type { AddressInfo } from "node:net";
import type { ReceivedHook } from "./client.ts";

export async function startWebhookReceiver(): Promise<{ url: string; stop: () => Promise<void> }> {
  const received: ReceivedHook[] = [];
  const scripts = new Map<string, { statuses: number[]; afterwards: number }>();
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const body = Buffer.concat(chunks).toString("utf8");
      const [, kind, name = ""] = (req.url ?? "").split("/");
      const send = (status: number, json?: unknown) => {
        res.writeHead(status, { "content-type": "application/json" });
        res.end(json === undefined ? "" : JSON.stringify(json));
      };
      if (kind === "hook" && req.method === "POST") {
        const headers: Record<string, string> = {};
        for (const [k, v] of Object.entries(req.headers)) if (typeof v === "string") headers[k] = v;
        received.push({ name, headers, body, at: Date.now() });
        const script = scripts.get(name);
        return send(script ? (script.statuses.shift() ?? script.afterwards) : 200, {});
      }
      if (kind === "_script" && req.method === "PUT") {
        const parsed = JSON.parse(body) as { statuses?: number[]; afterwards?: number };
        scripts.set(name, { statuses: parsed.statuses ?? [], afterwards: parsed.afterwards ?? 200 });
        return send(204);
      }
      if (kind === "_requests" && req.method === "GET")
        return send(
          200,
          received.filter((r) => r.name === name),
        );
      send(404, {});
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
