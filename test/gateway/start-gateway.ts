// Starts Postern the way `npm run dev` does (wrangler dev: workerd with local D1, R2 and Queues) on a
// free loopback port, in a throw-away state folder, for Node-side interop tests and benchmarks.
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";

export const GATEWAY_ADMIN_TOKEN = "gateway-admin-token-0123456789";

export interface RunningGateway {
  url: string;
  admin(method: string, route: string, body?: unknown): Promise<unknown>;
  stop(): Promise<void>;
}

const quiet = { WRANGLER_SEND_METRICS: "false", CLOUDFLARE_CF_FETCH_ENABLED: "false" };

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

function run(cmd: string, args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, {
      stdio: ["ignore", "ignore", "pipe"],
      env: { ...process.env, ...quiet },
    });
    let stderr = "";
    child.stderr?.on("data", (chunk) => {
      stderr += chunk;
    });
    child.on("exit", (code) =>
      code === 0 ? resolve() : reject(new Error(`${cmd} ${args.join(" ")}: ${stderr}`)),
    );
  });
}

export async function startGateway(timeoutMs = 60_000): Promise<RunningGateway> {
  const state = mkdtempSync(path.join(tmpdir(), "postern-gateway-"));
  const port = await freePort();
  // npm scripts put node_modules/.bin (and Node 22) first on PATH; wrangler needs Node 22.
  await run("wrangler", ["d1", "migrations", "apply", "DB", "--local", "--persist-to", state]);
  const child: ChildProcess = spawn(
    "wrangler",
    [
      "dev",
      "--local",
      "--ip",
      "127.0.0.1",
      "--port",
      String(port),
      "--persist-to",
      state,
      "--var",
      `POSTERN_ADMIN_TOKEN:${GATEWAY_ADMIN_TOKEN}`,
      "--var",
      `POSTERN_SECRET_KEY:k1:${btoa("g".repeat(32))}`,
      "--log-level",
      "warn",
    ],
    { detached: true, stdio: ["ignore", "ignore", "inherit"], env: { ...process.env, ...quiet } },
  );
  const url = `http://127.0.0.1:${port}`;
  const stop = async () => {
    try {
      process.kill(-child.pid!, "SIGTERM");
    } catch {}
    rmSync(state, { recursive: true, force: true });
  };
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      if ((await fetch(`${url}/healthz`)).ok) break;
    } catch {}
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`wrangler dev did not answer on ${url} within ${timeoutMs} ms`);
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  const admin = async (method: string, route: string, body?: unknown) => {
    const res = await fetch(`${url}/v1/admin${route}`, {
      method,
      headers: { authorization: `Bearer ${GATEWAY_ADMIN_TOKEN}`, "content-type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (!res.ok) throw new Error(`${method} ${route}: ${res.status} ${await res.text()}`);
    return res.status === 204 ? null : res.json();
  };
  return { url, admin, stop };
}
