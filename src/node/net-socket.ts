// The core's Socket over node:net / node:tls, for everything Postern's Node runtime speaks: SMTP
// relay, the SMTP listener, the Dovecot auth socket. Reads are pulled (the stream stays paused
// between read() calls), so a slow consumer applies backpressure to the peer instead of buffering.
import { readFile } from "node:fs/promises";
import net from "node:net";
import tls from "node:tls";
import { ConnectError, type ConnectOptions, type Socket } from "../core/net/socket.ts";
import { printable } from "../core/printable.ts";

export interface NodeConnectOptions extends ConnectOptions {
  /** A UNIX-domain socket to connect to instead of host:port (host and port then only name it). */
  path?: string;
  /** Trusted CA certificates (PEM) instead of Node's bundled roots. */
  ca?: string | Buffer;
  /** SNI and the name the certificate must carry. Default: host, unless it is an IP address. */
  servername?: string;
  /** Bound on connecting (with the TLS handshake for tls "on"). Default 30 s (smtp_connect_timeout). */
  timeoutMs?: number;
}

const DEFAULT_CONNECT_TIMEOUT_MS = 30_000;
const CLOSE_GRACE_MS = 2_000;

/** Postfix's words for the usual errno values ("connect to H[A]:P: Connection refused"). */
const ERRNO_TEXT: Readonly<Record<string, string>> = {
  ECONNREFUSED: "Connection refused",
  ECONNRESET: "Connection reset by peer",
  ETIMEDOUT: "Connection timed out",
  EHOSTUNREACH: "No route to host",
  ENETUNREACH: "Network is unreachable",
  EADDRNOTAVAIL: "Cannot assign requested address",
  ENOENT: "No such file or directory",
  EACCES: "Permission denied",
  ENOTFOUND: "Host or domain name not found",
  EAI_AGAIN: "Host or domain name not found (temporary failure)",
};

type ClientTls = Pick<NodeConnectOptions, "ca" | "servername" | "verify"> & { host: string };

export async function connectNode(options: NodeConnectOptions): Promise<Socket> {
  const { host, port, path } = options;
  const deadline = Date.now() + (options.timeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS);
  // smtp_tls_CAfile: read at each connect, so a replaced file takes effect without a restart.
  const ca = options.ca ?? (options.caFile ? await readCaFile(options.caFile) : undefined);
  const tlsOptions: ClientTls = { host, ca, servername: options.servername, verify: options.verify };
  // Implicit TLS goes over a TCP socket of our own, so it gets noDelay like the others.
  const raw = path === undefined ? net.connect({ host, port, noDelay: true }) : net.connect({ path });
  let socket: net.Socket = raw;
  try {
    await settled(raw, "connect", deadline);
    if (options.tls === "on") {
      socket = tls.connect({ socket: raw, host, ...clientTlsOptions(tlsOptions) });
      await settled(socket, "secureConnect", deadline);
    }
  } catch (error) {
    socket.destroy();
    raw.destroy();
    const address = (error as { address?: string }).address ?? host;
    const where = path === undefined ? `connect to ${host}[${address}]:${port}` : `connect to ${path}`;
    throw new ConnectError(`${where}: ${describe(error)}`, "ERR_CONNECT");
  }
  const upgrade = options.tls === "starttls" ? clientUpgrade(tlsOptions) : null;
  return new NodeSocket(socket, options.tls === "on", upgrade);
}

async function readCaFile(file: string): Promise<Buffer> {
  try {
    return await readFile(file);
  } catch (error) {
    throw new ConnectError(`cannot read smtp_tls_CAfile ${file}: ${describe(error)}`, "ERR_CONFIG");
  }
}

/** Resolves on `event`, rejects on an error or at the deadline (as ETIMEDOUT). */
function settled(socket: net.Socket, event: "connect" | "secureConnect", deadline: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const timeout = Object.assign(new Error("timeout"), { code: "ETIMEDOUT" });
    const timer = setTimeout(() => reject(timeout), Math.max(0, deadline - Date.now()));
    socket.once(event, () => {
      clearTimeout(timer);
      resolve();
    });
    // Left in place: an error after success is then harmless here and still seen by NodeSocket.
    socket.once("error", (error) => {
      clearTimeout(timer);
      reject(error);
    });
  });
}

/**
 * A socket accepted by a node:net server (the SMTP listener). With a secureContext (made once per
 * listener), startTls() plays the server side of STARTTLS; a node:tls server's socket is secure.
 */
export function acceptedNodeSocket(
  socket: net.Socket,
  options: {
    secure?: boolean;
    secureContext?: tls.SecureContext;
    /** Server-side handshake options beside the context (client certificates). */
    tlsOptions?: Pick<tls.TLSSocketOptions, "requestCert" | "rejectUnauthorized">;
  } = {},
): Socket {
  if (!(socket instanceof tls.TLSSocket)) socket.setNoDelay(true);
  const upgrade = options.secureContext ? serverUpgrade(options.secureContext, options.tlsOptions) : null;
  return new NodeSocket(socket, options.secure ?? socket instanceof tls.TLSSocket, upgrade);
}

/** Turns the plaintext socket into a TLS one, resolving once the handshake is done. */
type Upgrade = (raw: net.Socket) => Promise<tls.TLSSocket>;

function clientTlsOptions({ host, ca, servername, verify }: ClientTls): tls.ConnectionOptions {
  // Node checks the certificate against servername, else host; SNI must not carry an IP address.
  const name = servername ?? (net.isIP(host) ? undefined : host);
  return {
    ...(ca === undefined ? {} : { ca }),
    ...(name === undefined ? {} : { servername: name }),
    // Postfix's may/encrypt: encryption without authentication of the peer, any certificate.
    ...(verify === false ? { rejectUnauthorized: false } : {}),
  };
}

function clientUpgrade(options: ClientTls): Upgrade {
  return (raw) =>
    handshake(
      tls.connect({ socket: raw, host: options.host, ...clientTlsOptions(options) }),
      "secureConnect",
    );
}

function serverUpgrade(
  secureContext: tls.SecureContext,
  options: Pick<tls.TLSSocketOptions, "requestCert" | "rejectUnauthorized"> = {},
): Upgrade {
  return (raw) => handshake(new tls.TLSSocket(raw, { ...options, isServer: true, secureContext }), "secure");
}

function handshake(socket: tls.TLSSocket, event: "secureConnect" | "secure"): Promise<tls.TLSSocket> {
  return new Promise((resolve, reject) => {
    const settle = (error: Error | null) => {
      socket.off(event, succeed);
      socket.off("error", fail);
      socket.off("close", closed);
      if (error) {
        socket.destroy();
        reject(error);
      } else resolve(socket);
    };
    const succeed = () => settle(null);
    const fail = (error: Error) => settle(error);
    // The peer may just hang up on a certificate it rejects, without an alert we would see as error.
    const closed = () => settle(new Error("connection closed during the TLS handshake"));
    socket.once(event, succeed);
    socket.once("error", fail);
    socket.once("close", closed);
  });
}

/** The TLS sockets under NodeSockets, for what the core Socket does not carry (channel binding). */
const tlsSockets = new WeakMap<Socket, tls.TLSSocket>();

/** The node:tls socket under a secure NodeSocket (the peer's certificate), else null. */
export function tlsSocketOf(socket: Socket): tls.TLSSocket | null {
  return tlsSockets.get(socket) ?? null;
}

/**
 * tls-exporter channel binding data (RFC 9266 §2) of a secure NodeSocket, for SCRAM-*-PLUS. Only
 * over TLS 1.3: before it, the exporter is not bound to the session without extended master
 * secret, which Node does not let us check; null then, so -PLUS is not offered.
 */
export function tlsExporter(socket: Socket): Uint8Array | null {
  const secure = tlsSockets.get(socket);
  if (secure?.getProtocol() !== "TLSv1.3") return null;
  return new Uint8Array(secure.exportKeyingMaterial(32, "EXPORTER-Channel-Binding", Buffer.alloc(0)));
}

class NodeSocket implements Socket {
  readonly #raw: net.Socket;
  readonly #secure: boolean;
  readonly #upgrade: Upgrade | null;
  readonly #chunks: Uint8Array[] = [];
  #waiter: { resolve: (bytes: Uint8Array | null) => void; reject: (error: Error) => void } | null = null;
  #ended = false;
  #error: Error | null = null;
  #state: "open" | "closed" | "upgraded" = "open";

  constructor(raw: net.Socket, secure: boolean, upgrade: Upgrade | null) {
    this.#raw = raw;
    this.#secure = secure;
    this.#upgrade = upgrade;
    if (raw instanceof tls.TLSSocket) tlsSockets.set(this, raw);
    raw.pause();
    raw.on("data", this.#onData);
    raw.on("end", this.#onEnd);
    raw.on("close", this.#onEnd);
    raw.on("error", this.#onError);
  }

  get secure(): boolean {
    return this.#secure;
  }

  read(): Promise<Uint8Array | null> {
    if (this.#state === "upgraded") return Promise.reject(new Error("socket was upgraded to TLS"));
    const chunk = this.#chunks.shift();
    if (chunk) return Promise.resolve(chunk);
    if (this.#error) return Promise.reject(this.#error);
    if (this.#ended || this.#state === "closed") return Promise.resolve(null);
    if (this.#waiter) return Promise.reject(new Error("a read is already pending"));
    return new Promise((resolve, reject) => {
      this.#waiter = { resolve, reject };
      this.#raw.resume();
    });
  }

  write(bytes: Uint8Array): Promise<void> {
    if (this.#state !== "open") return Promise.reject(new Error(`socket is ${this.#state}`));
    if (this.#error) return Promise.reject(this.#error);
    if (this.#raw.destroyed || this.#raw.writableEnded) {
      return Promise.reject(new Error("broken pipe: the connection is closed"));
    }
    return new Promise((resolve, reject) => {
      this.#raw.write(bytes, (error) => (error ? reject(error) : resolve()));
    });
  }

  async startTls(): Promise<Socket> {
    if (this.#state !== "open") throw new Error(`socket is ${this.#state}`);
    if (this.#secure || !this.#upgrade) throw new Error("this socket cannot start TLS");
    this.#state = "upgraded";
    this.#detach();
    // RFC 3207 §6: plaintext that arrived before the handshake (ours or still in the stream's
    // buffer) is dropped, never read as if it came over TLS.
    this.#chunks.length = 0;
    while (this.#raw.read() !== null) {
      // drain
    }
    try {
      return new NodeSocket(await this.#upgrade(this.#raw), true, null);
    } catch (error) {
      throw new ConnectError(`TLS handshake failed: ${describe(error)}`, "ERR_TLS");
    }
  }

  close(): Promise<void> {
    if (this.#state !== "open") return Promise.resolve();
    this.#state = "closed";
    this.#chunks.length = 0;
    this.#settle();
    const raw = this.#raw;
    if (raw.destroyed) return Promise.resolve();
    return new Promise((resolve) => {
      raw.once("close", () => resolve());
      // end() sends FIN (and close_notify on TLS) after queued writes; then the socket is let go,
      // at the latest after a grace period if the peer stopped reading.
      const timer = setTimeout(() => raw.destroy(), CLOSE_GRACE_MS);
      timer.unref();
      raw.end(() => {
        clearTimeout(timer);
        raw.destroy();
      });
    });
  }

  readonly #onData = (chunk: Buffer): void => {
    this.#raw.pause();
    const bytes = new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    const waiter = this.#waiter;
    if (waiter) {
      this.#waiter = null;
      waiter.resolve(bytes);
    } else this.#chunks.push(bytes);
  };

  readonly #onEnd = (): void => {
    this.#ended = true;
    this.#settle();
  };

  readonly #onError = (error: Error): void => {
    this.#error = error;
    this.#settle();
  };

  /** Wakes a pending read with whatever the state now says. */
  #settle(): void {
    const waiter = this.#waiter;
    if (!waiter || this.#chunks.length > 0) return;
    if (this.#error) waiter.reject(this.#error);
    else if (this.#ended || this.#state !== "open") waiter.resolve(null);
    else return;
    this.#waiter = null;
  }

  #detach(): void {
    this.#raw.off("data", this.#onData);
    this.#raw.off("end", this.#onEnd);
    this.#raw.off("close", this.#onEnd);
    this.#raw.off("error", this.#onError);
    this.#raw.pause();
    // The TLS socket reports errors from here on; this keeps a stray one from being unhandled.
    this.#raw.on("error", () => {});
    const waiter = this.#waiter;
    this.#waiter = null;
    waiter?.reject(new Error("socket was upgraded to TLS"));
  }
}

function describe(error: unknown): string {
  const code = (error as { code?: string }).code;
  if (code && ERRNO_TEXT[code]) return ERRNO_TEXT[code];
  return printable(error instanceof Error ? error.message : String(error));
}
