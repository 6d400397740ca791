// The core's Socket over Cloudflare Workers' connect(). Workers refuse port 25 outright, so that is
// said before trying; STARTTLS needs secureTransport "starttls" chosen at connect time.
import { connect } from "cloudflare:sockets";
import { type Connect, ConnectError, type Socket } from "../core/net/socket.ts";
import { printable } from "../core/printable.ts";

type WorkersSocket = ReturnType<typeof connect>;

// TLS: workerd verifies the certificate against its trust store and the host name given here, and
// has no switch to turn that off, so `verify: false` (Postfix's may/encrypt) cannot be honoured and
// `caFile` (smtp_tls_CAfile) is not used: every TLS session here is a verified one.
export const connectSocket: Connect = async ({ host, port, tls, path }) => {
  if (path !== undefined) {
    throw new ConnectError(
      `connect to ${printable(path)}: Cloudflare Workers cannot use UNIX-domain sockets`,
      "ERR_UNIX_SOCKET",
      false,
    );
  }
  const where = `connect to ${host}[${host}]:${port}`;
  if (port === 25) {
    throw new ConnectError(
      `${where}: Cloudflare Workers cannot connect to port 25; use port 587 (STARTTLS) or 465 (implicit TLS)`,
      "ERR_PORT_FORBIDDEN",
      false,
    );
  }
  try {
    const socket = connect({ hostname: host, port }, { secureTransport: tls, allowHalfOpen: false });
    // connect() returns at once; a refused or unreachable peer shows up here.
    await socket.opened;
    return new CloudflareSocket(socket, host, tls === "on");
  } catch (error) {
    throw new ConnectError(`${where}: ${describe(error)}`, "ERR_CONNECT");
  }
};

function describe(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return /refused/i.test(message) ? "Connection refused" : printable(message);
}

class CloudflareSocket implements Socket {
  readonly #socket: WorkersSocket;
  readonly #host: string;
  readonly #secure: boolean;
  readonly #reader: ReadableStreamDefaultReader<Uint8Array>;
  readonly #writer: WritableStreamDefaultWriter<Uint8Array>;

  constructor(socket: WorkersSocket, host: string, secure: boolean) {
    this.#socket = socket;
    this.#host = host;
    this.#secure = secure;
    this.#reader = socket.readable.getReader() as ReadableStreamDefaultReader<Uint8Array>;
    this.#writer = socket.writable.getWriter() as WritableStreamDefaultWriter<Uint8Array>;
  }

  get secure(): boolean {
    return this.#secure;
  }

  async read(): Promise<Uint8Array | null> {
    const { value, done } = await this.#reader.read();
    if (done) return null;
    return value instanceof Uint8Array ? value : new Uint8Array(value as ArrayBuffer);
  }

  write(bytes: Uint8Array): Promise<void> {
    return this.#writer.write(bytes);
  }

  async startTls(): Promise<Socket> {
    // startTls() needs the streams unlocked; the plaintext socket is unusable afterwards.
    this.#reader.releaseLock();
    this.#writer.releaseLock();
    // The certificate is checked against the host given to connect() (workerd takes no override).
    const upgraded = this.#socket.startTls();
    await upgraded.opened;
    return new CloudflareSocket(upgraded, this.#host, true);
  }

  async close(): Promise<void> {
    try {
      await this.#socket.close();
    } catch {
      // already closed or reset: nothing left to release
    }
  }
}
