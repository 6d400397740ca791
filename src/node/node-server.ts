// The Node runtime in one call: services over the data folder, the same Hono app as Workers on
// @hono/node-server, and the delivery poller. main.ts adds the environment and signals; tests
// start it in-process on port 0.
import type { AddressInfo } from "node:net";
import { type HttpBindings, serve } from "@hono/node-server";
import { consoleLogger } from "../core/console-logger.ts";
import { createApp } from "../http/app.ts";
import { problemResponse } from "../http/problem.ts";
import { type NodeConfig, type NodeServices, openNodeServices } from "./node-services.ts";
import { forgesLoopback, peerAddress } from "./peer-request.ts";
import { type RunningSmtpListener, type SmtpListenerConfig, startSmtpListener } from "./smtp-listener.ts";

export interface NodeServerConfig extends NodeConfig {
  /** Default 127.0.0.1. */
  host?: string;
  /** Default 8787, as `npm run dev` on Workers; 0 picks a free port. */
  port?: number;
  /** The SMTP submission listeners (STARTTLS and implicit TLS); absent: HTTP only. */
  smtp?: SmtpListenerConfig;
}

export interface RunningNodeServer {
  url: string;
  port: number;
  node: NodeServices;
  /** Null when the config asked for no SMTP listener. */
  smtp: RunningSmtpListener | null;
  /**
   * Graceful stop: refuses new connections, lets requests in flight finish (cut off after
   * `graceMs`), lets the delivery batches in flight finish, closes the database.
   */
  stop(graceMs?: number): Promise<void>;
}

export const DEFAULT_PORT = 8787;
const DEFAULT_GRACE_MS = 10_000;

export async function startNodeServer(config: NodeServerConfig): Promise<RunningNodeServer> {
  const node = await openNodeServices(config);
  const app = createApp(() => node.services);
  const host = config.host ?? "127.0.0.1";
  let server: ReturnType<typeof serve>;
  let port: number;
  try {
    ({ server, port } = await listen(app.fetch, host, config.port ?? DEFAULT_PORT));
  } catch (error) {
    await node.close();
    throw error;
  }
  let smtp: RunningSmtpListener | null = null;
  if (config.smtp) {
    try {
      smtp = await startSmtpListener(node.services, config.dataDir, config.smtp);
    } catch (error) {
      await closeServer(server, 0);
      await node.close();
      throw error;
    }
  }
  node.queue.start();
  node.events.start();
  consoleLogger("postern/master").info(
    `listening on http://${hostForUrl(host)}:${port}, data in ${config.dataDir}`,
  );

  let stopped: Promise<void> | null = null;
  return {
    url: `http://${hostForUrl(host)}:${port}`,
    port,
    node,
    smtp,
    stop: (graceMs = DEFAULT_GRACE_MS) => {
      stopped ??= (async () => {
        await Promise.all([smtp?.stop(graceMs), closeServer(server, graceMs)]);
        await node.close();
      })();
      return stopped;
    },
  };
}

type Fetch = (request: Request, env: HttpBindings) => Response | Promise<Response>;

function listen(fetch: Fetch, hostname: string, port: number) {
  return new Promise<{ server: ReturnType<typeof serve>; port: number }>((resolve, reject) => {
    const server = serve(
      {
        fetch: (request, env) => {
          const bindings = env as HttpBindings;
          const peer = peerAddress(bindings.incoming.socket.remoteAddress);
          if (forgesLoopback(new URL(request.url), peer)) return misdirected();
          // Node plays Cloudflare's part: the client address is the socket's, never a header's.
          request.headers.set("cf-connecting-ip", peer);
          return fetch(request, bindings);
        },
        hostname,
        port,
      },
      (info: AddressInfo) => {
        server.off("error", reject);
        resolve({ server, port: info.port });
      },
    );
    server.once("error", reject);
  });
}

function misdirected(): Response {
  return problemResponse({
    slug: "misdirected-request",
    title: "Misdirected request",
    status: 421,
    detail: "A loopback host name from a remote client; use this server's own name",
  });
}

function hostForUrl(host: string): string {
  return host.includes(":") ? `[${host}]` : host;
}

function closeServer(server: ReturnType<typeof serve>, graceMs: number): Promise<void> {
  return new Promise((resolve) => {
    const force = setTimeout(() => {
      if ("closeAllConnections" in server) server.closeAllConnections();
    }, graceMs);
    force.unref();
    server.close(() => {
      clearTimeout(force);
      resolve();
    });
    // Keep-alive connections with no request in flight would hold close() open.
    if ("closeIdleConnections" in server) server.closeIdleConnections();
  });
}
