// The test smarthost: four real SMTP servers (smtp-server) plus a JSON control API, all on
// 127.0.0.1 with OS-chosen ports. Run as `node test/smarthost/server.ts` (Node 22); it prints one
// JSON line with the ports once everything listens. See client.ts for the control API.
//
// Outcomes are picked by the recipient's local part, so tests need no reconfiguration:
//   reject550*  -> RCPT 550 5.1.1     defer451*  -> RCPT 451 4.3.0
//   datareject* -> DATA final 554     dropdata*  -> connection destroyed mid-DATA, no reply
//   quit421*    -> RCPT 421 and the connection closed
//
// Env: SMARTHOST_CERT / SMARTHOST_KEY (PEM paths; default: generated into .wrangler/test-certs),
// SMARTHOST_USERS (user:pass,user2:pass2), SMARTHOST_SIZE (bytes, default 30 MB),
// SMARTHOST_COUNT_FILE (running count of accepted messages, for benchmarks), SMARTHOST_DEBUG.
import { randomBytes } from "node:crypto";
import { fstatSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { fileURLToPath } from "node:url";
import type {
  SMTPServerAddress,
  SMTPServerAuthentication,
  SMTPServerAuthenticationResponse,
  SMTPServerDataStream,
  SMTPServerError,
  SMTPServerOptions,
  SMTPServerSession,
} from "smtp-server";
import { SMTPServer } from "smtp-server";
import { makeTestCertificates } from "./certificates.ts";
import type { Received, SmarthostKind, SmarthostPorts } from "./client.ts";

const HOST = "127.0.0.1";
const KINDS: readonly SmarthostKind[] = ["starttls", "implicit", "plain", "open"];

const env = process.env;
const debug = Boolean(env.SMARTHOST_DEBUG);
const sizeLimit = Number(env.SMARTHOST_SIZE || 30 * 1024 * 1024);
const users = new Map(
  (env.SMARTHOST_USERS || "relay:relay-secret")
    .split(",")
    .filter(Boolean)
    .map((pair) => {
      const colon = pair.indexOf(":");
      return [pair.slice(0, colon), pair.slice(colon + 1)] as const;
    }),
);
const countFile = env.SMARTHOST_COUNT_FILE;
const tls = tlsFiles();

const received: Received[] = [];
let accepted = 0;
let sequence = 0;
let listening = true;

function tlsFiles(): { cert: Buffer; key: Buffer } {
  let certFile = env.SMARTHOST_CERT;
  let keyFile = env.SMARTHOST_KEY;
  if (!certFile || !keyFile) {
    // Standalone use (benchmarks, by hand): the same place vitest.config.ts keeps them.
    const made = makeTestCertificates(fileURLToPath(new URL("../../.wrangler/test-certs", import.meta.url)));
    certFile = made.certFile;
    keyFile = made.keyFile;
  }
  return { cert: readFileSync(certFile), key: readFileSync(keyFile) };
}

function stdinIsPipe(): boolean {
  try {
    const stat = fstatSync(0);
    return stat.isFIFO() || stat.isSocket();
  } catch {
    return false;
  }
}

function smtpError(code: number, message: string): SMTPServerError {
  return Object.assign(new Error(message), { responseCode: code });
}

function localPart(address: string): string {
  const at = address.lastIndexOf("@");
  return (at < 0 ? address : address.slice(0, at)).toLowerCase();
}

function writeCount(): void {
  if (!countFile) return;
  // Write then rename, so a benchmark polling the file never reads a half-written number.
  const temporary = `${countFile}.${process.pid}.tmp`;
  writeFileSync(temporary, `${accepted}\n`);
  renameSync(temporary, countFile);
}

// Postfix-style queue IDs: unique per message (sequence) and not guessable across runs (random).
function queueId(): string {
  sequence += 1;
  return sequence.toString(16).toUpperCase().padStart(5, "0") + randomBytes(3).toString("hex").toUpperCase();
}

function createSmtpServer(kind: SmarthostKind): SMTPServer {
  // Replies carry their enhanced status codes in the text, exactly as Postfix words them, so the
  // library's own code insertion (hideENHANCEDSTATUSCODES, on by default) stays off.
  const options: SMTPServerOptions = {
    name: "smarthost.test",
    banner: `Postern test smarthost (${kind})`,
    logger: false,
    disableReverseLookup: true,
    size: sizeLimit,
    authMethods: ["PLAIN", "LOGIN"],
    authOptional: false,
    // Finish quickly on SIGTERM instead of the 30 s grace period.
    closeTimeout: 100,
    onAuth,
    onRcptTo,
    onData: (stream, session, callback) => onData(kind, server, stream, session, callback),
  };
  switch (kind) {
    case "starttls":
      // STARTTLS is offered and, by smtp-server's default, required before AUTH (538 otherwise).
      Object.assign(options, tls);
      break;
    case "implicit":
      Object.assign(options, tls, { secure: true });
      break;
    case "plain":
      // Credentials over cleartext, for testing that Postern refuses to send them.
      Object.assign(options, { disabledCommands: ["STARTTLS"], allowInsecureAuth: true });
      break;
    case "open":
      Object.assign(options, { disabledCommands: ["STARTTLS", "AUTH"], authOptional: true });
      break;
  }
  const server = new SMTPServer(options);
  // Client resets and the like surface here; without a listener they would crash the process.
  server.on("error", (error) => {
    if (debug) console.error(`[smarthost ${kind}]`, error);
  });
  return server;
}

function onAuth(
  auth: SMTPServerAuthentication,
  _session: SMTPServerSession,
  callback: (error: Error | null | undefined, response?: SMTPServerAuthenticationResponse) => void,
): void {
  const username = auth.username ?? "";
  if (users.has(username) && users.get(username) === auth.password) {
    callback(null, { user: username });
  } else {
    callback(null, {
      responseCode: 535,
      message: "5.7.8 Error: authentication failed: authentication failure",
    });
  }
}

function onRcptTo(
  address: SMTPServerAddress,
  _session: SMTPServerSession,
  callback: (error?: Error | null) => void,
) {
  const local = localPart(address.address);
  if (local.startsWith("reject550")) {
    callback(smtpError(550, `5.1.1 <${address.address}>: Recipient address rejected: User unknown`));
  } else if (local.startsWith("quit421")) {
    // smtp-server closes the connection after any 421 (RFC 5321 §3.8).
    callback(smtpError(421, "4.3.2 smarthost.test Service shutting down, closing transmission channel"));
  } else if (local.startsWith("defer451")) {
    callback(smtpError(451, `4.3.0 <${address.address}>: Temporary failure`));
  } else {
    callback();
  }
}

function onData(
  kind: SmarthostKind,
  server: SMTPServer,
  stream: SMTPServerDataStream,
  session: SMTPServerSession,
  callback: (error?: Error | null, message?: string) => void,
): void {
  const rcptTo = session.envelope.rcptTo.map((rcpt) => rcpt.address);
  const has = (prefix: string) => rcptTo.some((address) => localPart(address).startsWith(prefix));

  if (has("dropdata")) {
    // Vanish mid-DATA: never answer, tear the connection down once the body starts arriving.
    // smtp-server hands handlers no socket, so reach for the connection's own.
    let dropped = false;
    const drop = () => {
      if (dropped) return;
      dropped = true;
      for (const connection of server.connections) {
        if (connection.id === session.id) connection._socket.destroy();
      }
    };
    stream.once("data", drop);
    stream.once("end", drop);
    return;
  }

  const chunks: Buffer[] = [];
  stream.on("data", (chunk: Buffer) => chunks.push(chunk));
  stream.on("end", () => {
    if (stream.sizeExceeded) {
      callback(smtpError(552, "5.3.4 Message size exceeds fixed limit"));
      return;
    }
    if (has("datareject")) {
      callback(smtpError(554, "5.6.0 Message rejected"));
      return;
    }
    const body = Buffer.concat(chunks);
    const mailFrom = session.envelope.mailFrom;
    const id = queueId();
    received.push({
      id,
      server: kind,
      connection: session.id,
      mailFrom: mailFrom ? mailFrom.address : "",
      rcptTo,
      authUser: typeof session.user === "string" ? session.user : null,
      secure: session.secure,
      bodyBase64: body.toString("base64"),
      size: body.length,
      receivedAt: new Date().toISOString(),
    });
    accepted += 1;
    writeCount();
    callback(null, `2.0.0 Ok: queued as ${id}`);
  });
}

function listen(server: SMTPServer, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const listener = server.server;
    const onError = (error: Error) => reject(error);
    listener.once("error", onError);
    listener.listen(port, HOST, () => {
      listener.off("error", onError);
      resolve((listener.address() as AddressInfo).port);
    });
  });
}

const servers = new Map(KINDS.map((kind) => [kind, createSmtpServer(kind)]));
const ports = { starttls: 0, implicit: 0, plain: 0, open: 0, control: 0 } satisfies SmarthostPorts;
for (const [kind, server] of servers) ports[kind] = await listen(server, 0);

// Closing only the listeners refuses new connections (ECONNREFUSED) while sessions in flight
// finish; net.Server can listen again afterwards, on the very port it had.
async function down(): Promise<void> {
  if (!listening) return;
  listening = false;
  for (const server of servers.values()) if (server.server.listening) server.server.close();
  // The listening fds close with the handles; one turn of the loop and they are gone.
  await new Promise((resolve) => setImmediate(resolve));
}

async function up(): Promise<void> {
  if (listening) return;
  // Skip those already back, so a retry after a failed re-listen (port taken meanwhile) can work.
  for (const [kind, server] of servers) if (!server.server.listening) await listen(server, ports[kind]);
  listening = true;
}

function reply(response: http.ServerResponse, status: number, body: unknown): void {
  const json = JSON.stringify(body);
  response.writeHead(status, {
    "content-type": "application/json",
    "content-length": Buffer.byteLength(json),
  });
  response.end(json);
}

const control = http.createServer((request, response) => {
  request.resume();
  const url = new URL(request.url ?? "/", `http://${HOST}`);
  const route = `${request.method} ${url.pathname}`;
  const handle = async (): Promise<void> => {
    switch (route) {
      case "GET /health":
        return reply(response, 200, { ok: true, up: listening, accepted, stored: received.length, ports });
      case "GET /messages": {
        const rcpt = url.searchParams.get("rcpt")?.toLowerCase();
        const list = rcpt
          ? received.filter((message) => message.rcptTo.some((r) => r.toLowerCase() === rcpt))
          : received;
        return reply(response, 200, list);
      }
      case "DELETE /messages": {
        const deleted = received.length;
        received.length = 0;
        return reply(response, 200, { deleted });
      }
      case "POST /down":
        await down();
        return reply(response, 200, { up: listening });
      case "POST /up":
        await up();
        return reply(response, 200, { up: listening });
      default:
        return reply(response, 404, { error: `no route ${route}` });
    }
  };
  handle().catch((error: unknown) => reply(response, 500, { error: String(error) }));
});
ports.control = await new Promise<number>((resolve, reject) => {
  control.once("error", reject);
  control.listen(0, HOST, () => resolve((control.address() as AddressInfo).port));
});

let stopping = false;
function shutdown(): void {
  if (stopping) return;
  stopping = true;
  for (const server of servers.values()) {
    if (server.server.listening) server.server.close();
    for (const connection of server.connections) connection._socket.destroy();
  }
  control.closeAllConnections();
  control.close();
  process.exit(0);
}
process.on("SIGTERM", shutdown);
process.on("SIGINT", shutdown);
// Die with the parent: a piped stdin reaches end-of-file when the parent goes away. Only when it is
// a pipe or socket, so a terminal or /dev/null (a backgrounded shell job) does not stop us at once.
if (stdinIsPipe()) {
  process.stdin.on("end", shutdown);
  process.stdin.on("error", shutdown);
  process.stdin.resume();
}

writeCount();
process.stdout.write(`${JSON.stringify(ports)}\n`);
