// HTTP(S) to the deployed gateway for the SMTP adapter's upstream mode, over node:http/node:https
// (keep-alive, so a busy adapter reuses its TLS connections; an extra CA for a self-hosted gateway
// with a private one). Every request has a time limit. A network failure or a timeout throws
// GatewayUnavailable: the caller answers 4xx, never 250 and never 5xx. An HTTP answer of any
// status is a value (GatewayResponse), read whole up to a small limit.
import { readFileSync } from "node:fs";
import http from "node:http";
import https from "node:https";
import tls from "node:tls";
import { parseUpstreamUrl } from "../../core/config/upstream-url.ts";

export interface GatewayClientOptions {
  /** postern_upstream_url */
  url: string;
  /** postern_upstream_tls_CAfile: PEM, trusted besides the system's CAs. */
  caFile?: string | undefined;
  /** postern_upstream_timeout, per request. */
  timeoutMs: number;
}

export interface GatewayRequest {
  method: "GET" | "POST";
  /** Path and query under the gateway URL: `/v1/messages?from=...`. */
  path: string;
  headers?: Record<string, string>;
  body?: Uint8Array | string;
}

export interface GatewayResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  /** The parsed body for JSON media types (problem+json too); null otherwise or unparsable. */
  json: unknown;
}

/** The gateway could not be reached or did not answer in time (nothing was accepted by us). */
export class GatewayUnavailable extends Error {
  readonly code = "ERR_UPSTREAM_UNAVAILABLE";
  readonly transient = true;
}

/** Gateway answers are small JSON documents; anything far larger is not one. */
const RESPONSE_LIMIT = 1024 * 1024;

export class GatewayClient {
  readonly origin: string;
  readonly #base: URL;
  readonly #timeoutMs: number;
  readonly #agent: http.Agent;
  readonly #transport: typeof http | typeof https;

  constructor(options: GatewayClientOptions) {
    const parsed = parseUpstreamUrl(options.url);
    if (!parsed.ok) throw new Error(`postern_upstream_url = ${options.url}: ${parsed.reason}`);
    this.#base = parsed.url;
    this.origin = parsed.url.origin;
    this.#timeoutMs = options.timeoutMs;
    if (parsed.url.protocol === "https:") {
      const extra = options.caFile ? readFileSync(options.caFile, "utf8") : null;
      this.#agent = new https.Agent({
        keepAlive: true,
        ...(extra ? { ca: [...tls.rootCertificates, extra] } : {}),
      });
      this.#transport = https;
    } else {
      this.#agent = new http.Agent({ keepAlive: true });
      this.#transport = http;
    }
  }

  async request(request: GatewayRequest): Promise<GatewayResponse> {
    // The gateway may live under a path prefix: keep it.
    const base = this.#base.pathname.replace(/\/+$/, "");
    const target = new URL(base + request.path, this.#base);
    const body = typeof request.body === "string" ? Buffer.from(request.body) : request.body;
    const first = await this.#attempt(request, target, body);
    if (!(first instanceof StaleConnection)) return first;
    // A kept-alive connection the gateway had just closed (its idle timeout raced our request):
    // the request almost surely never reached it, so it goes again once. Messages carry an
    // Idempotency-Key, so a gateway that keeps those answers a true repeat with the first answer.
    const second = await this.#attempt(request, target, body);
    if (second instanceof StaleConnection) throw second.error;
    return second;
  }

  #attempt(
    request: GatewayRequest,
    target: URL,
    body: Uint8Array | undefined,
  ): Promise<GatewayResponse | StaleConnection> {
    return new Promise((resolve, reject) => {
      let answered = false;
      const fail = (reason: string) =>
        reject(new GatewayUnavailable(`${request.method} ${this.origin}${target.pathname}: ${reason}`));
      const outgoing = this.#transport.request(
        target,
        {
          method: request.method,
          agent: this.#agent,
          headers: {
            accept: "application/json, application/problem+json",
            ...request.headers,
            ...(body ? { "content-length": String(body.byteLength) } : {}),
          },
        },
        (incoming) => {
          answered = true;
          const chunks: Buffer[] = [];
          let size = 0;
          incoming.on("data", (chunk: Buffer) => {
            size += chunk.length;
            if (size > RESPONSE_LIMIT) {
              outgoing.destroy(new Error("answer larger than expected"));
              return;
            }
            chunks.push(chunk);
          });
          incoming.on("error", (error) => fail(error.message));
          incoming.on("end", () => {
            clearTimeout(timer);
            resolve({
              status: incoming.statusCode ?? 0,
              headers: incoming.headers,
              json: parseJson(incoming.headers["content-type"], Buffer.concat(chunks)),
            });
          });
        },
      );
      // One deadline for the whole exchange: connect, TLS, upload and answer.
      const timer = setTimeout(
        () => outgoing.destroy(new Error(`no answer within ${this.#timeoutMs} ms`)),
        this.#timeoutMs,
      );
      outgoing.on("error", (error) => {
        clearTimeout(timer);
        const code = (error as { code?: string }).code;
        if (!answered && outgoing.reusedSocket && (code === "ECONNRESET" || code === "EPIPE")) {
          const stale = `${request.method} ${this.origin}${target.pathname}: ${describe(error)}`;
          return resolve(new StaleConnection(new GatewayUnavailable(stale)));
        }
        fail(describe(error));
      });
      outgoing.end(body);
    });
  }

  /** Closes idle keep-alive connections (at shutdown). */
  close(): void {
    this.#agent.destroy();
  }
}

/** A reused connection reset before any answer. */
class StaleConnection {
  readonly error: GatewayUnavailable;
  constructor(error: GatewayUnavailable) {
    this.error = error;
  }
}

function parseJson(contentType: string | undefined, bytes: Buffer): unknown {
  if (!/^application\/(?:[\w.+-]+\+)?json\b/i.test(contentType ?? "")) return null;
  try {
    return JSON.parse(bytes.toString("utf8"));
  } catch {
    return null;
  }
}

function describe(error: Error): string {
  const code = (error as { code?: string }).code;
  return code && !error.message.includes(code) ? `${code}: ${error.message}` : error.message;
}
