// The SMTP submission listeners of the Node runtime: plain TCP with STARTTLS (587-style) and
// implicit TLS (465-style, smtpd_tls_wrappermode). Each connection drives one sans-I/O SmtpSession
// over the core Socket: bytes in, outputs (reply, delay, starttls, close) carried out in order.
// Messages stream to disk and are accepted like HTTP submissions (smtp-accept.ts), so 250 means
// stored and queued. What a session talks to (SASL, policy, accept) comes from an SmtpBackend:
// this runtime's own (localSmtpBackend) or a deployed gateway's (upstream mode).
import net from "node:net";
import tls from "node:tls";
import { parseDuration, type RawSettings, type Settings } from "../core/config/settings.ts";
import { consoleLogger } from "../core/console-logger.ts";
import { newQueueId } from "../core/ids.ts";
import { lookupFirst } from "../core/maps/lookup-first.ts";
import type { LookupTable } from "../core/maps/lookup-table.ts";
import { parseMapList } from "../core/maps/parse-map-list.ts";
import type { Socket } from "../core/net/socket.ts";
import type { Logger } from "../core/ports.ts";
import { printable } from "../core/printable.ts";
import { parseSaslPath } from "../core/sasl/dovecot/parse-sasl-path.ts";
import {
  type AuthPort,
  type ClientInfo,
  memoryRateCounter,
  type RateCounter,
  restrictionPolicy,
  type SessionOutput,
  SmtpSession,
  saslAuthPort,
  sessionConfig,
  type TlsInfo,
} from "../core/smtp/server/index.ts";
import { withTimeout } from "../core/smtp/with-timeout.ts";
import { saslType } from "../http/sasl-backend.ts";
import { type RequestSasl, saslContext } from "../http/sasl-context.ts";
import type { Services } from "../http/services.ts";
import { GroupCommitStore } from "./group-commit.ts";
import { acceptedNodeSocket, tlsExporter, tlsSocketOf } from "./net-socket.ts";
import { peerAddress } from "./peer-request.ts";
import { sessionTables } from "./session-tables.ts";
import { type EnabledFilter, sharedSecretOffer } from "./shared-secret-offer.ts";
import { smtpAcceptPort } from "./smtp-accept.ts";
import type { SmtpBackend } from "./smtp-backend.ts";
import { loadSmtpCertificate, type SmtpCertificate } from "./smtp-certificate.ts";
import {
  type ClientCertPolicy,
  type ClientCertVerdict,
  clientCertPolicy,
  clientCertTlsOptions,
  clientCertVerdict,
} from "./smtp-client-cert.ts";
import { smtpDovecotSasl } from "./smtp-dovecot.ts";
import { watchFiles } from "./watch-files.ts";

export interface SmtpListenerConfig {
  /** Default 127.0.0.1. */
  host?: string;
  /** The STARTTLS listener; 0 picks a free port, null: none. */
  port?: number | null;
  /** The implicit TLS listener; 0 picks a free port, null: none. */
  tlsPort?: number | null;
  /** main.cf values layered over the deployment's settings (tests, embedders). */
  parameters?: RawSettings;
  /** Concurrent connections over both listeners; more get 421 (Postfix: the smtpd process limit). */
  maxConnections?: number;
}

export interface RunningSmtpListener {
  /** The bound ports (null for a listener not started). */
  port: number | null;
  tlsPort: number | null;
  certificate: SmtpCertificate;
  /** Rereads the certificate files (SIGHUP); connections from now on use them. */
  reloadCertificate(): void;
  /**
   * Stops accepting; idle sessions are closed at once, the others when their command is answered
   * (a message being accepted finishes), and whatever is left after `graceMs` is cut off.
   */
  stop(graceMs?: number): Promise<void>;
}

export const DEFAULT_SMTP_PORT = 2587;
export const DEFAULT_SMTPS_PORT = 2465;
const DEFAULT_MAX_CONNECTIONS = 100;
const DEFAULT_TIMEOUT = "300s";
const encoder = new TextEncoder();

interface Connection {
  socket: net.Socket;
  /** Wakes a session waiting for input so it can close; set while it waits. */
  interrupt: (() => void) | null;
}

/** The listener over this runtime's accounts, maps, messages and queue. */
export function startSmtpListener(
  services: Services,
  dataDir: string,
  config: SmtpListenerConfig = {},
): Promise<RunningSmtpListener> {
  return startSmtpFront(localSmtpBackend(services), dataDir, config);
}

/** The listener over any back end (`dataDir` holds the self-signed certificate, if one is made). */
export async function startSmtpFront(
  backend: SmtpBackend,
  dataDir: string,
  config: SmtpListenerConfig = {},
): Promise<RunningSmtpListener> {
  const parameters = config.parameters ?? {};
  const logger = consoleLogger("postern/smtpd");
  // `parameters` is a layer over the deployment's settings (tests and embedders use it).
  const settings = (await backend.loadSettings()).withLayer(parameters);
  const idleMs = timeoutOf(settings, "smtpd_timeout");
  const handshakeMs = timeoutOf(settings, "smtpd_starttls_timeout");
  sessionConfig(settings); // a bad value stops the start, not every connection
  if (saslType(settings) === "dovecot") parseSaslPath(settings.get("smtpd_sasl_path"));
  const loadCertificate = () =>
    loadSmtpCertificate({
      dataDir,
      certFile: settings.get("smtpd_tls_cert_file") || undefined,
      keyFile: settings.get("smtpd_tls_key_file") || undefined,
      hostname: settings.get("myhostname"),
    });
  let certificate = loadCertificate();
  let clientCert = clientCertPolicy(settings);
  const contextOptions = (server = certificate, clients = clientCert) => ({
    key: server.key,
    cert: server.cert,
    ...(clients.ca ? { ca: clients.ca } : {}),
  });
  let secureContext = tls.createSecureContext(contextOptions());
  if (certificate.selfSigned) {
    logger.info(`using the self-signed certificate ${certificate.certFile} (set smtpd_tls_cert_file)`);
  }

  const maxConnections = config.maxConnections ?? DEFAULT_MAX_CONNECTIONS;
  const connections = new Set<Connection>();
  // Per listener process, like anvil: smtpd_client_auth_rate_limit spans connections.
  const authRate = memoryRateCounter({ now: Date.now });
  let stopping = false;

  const handle = (socket: net.Socket, implicitTls: boolean) => {
    socket.on("error", () => {}); // reported through the core Socket; never unhandled
    const connection: Connection = { socket, interrupt: null };
    if (stopping) return void socket.destroy();
    connections.add(connection);
    const overLimit = connections.size > maxConnections;
    const run = overLimit
      ? refuseBusy(socket, backend, logger)
      : serve(connection, implicitTls, {
          backend,
          parameters,
          logger,
          authRate,
          idleMs,
          handshakeMs,
          secureContext: () => secureContext,
          clientCert: () => clientCert,
          stopping: () => stopping,
        });
    run
      .catch((error: unknown) => logger.warn(`warning: ${describe(error)}`))
      .finally(() => {
        connections.delete(connection);
        socket.destroy();
      });
  };

  const host = config.host ?? "127.0.0.1";
  const plainServer =
    config.port === null ? null : net.createServer({ noDelay: true }, (socket) => handle(socket, false));
  const tlsServer =
    config.tlsPort === null
      ? null
      : tls.createServer(
          { ...contextOptions(), ...clientCertTlsOptions(clientCert), handshakeTimeout: handshakeMs },
          (socket) => handle(socket, true),
        );
  // A failed implicit-TLS handshake is the client's problem, logged like Postfix does.
  tlsServer?.on("tlsClientError", (error, socket) => {
    logger.info(`SSL_accept error from ${peerAddress(socket.remoteAddress)}: ${describe(error)}`);
    socket.destroy();
  });
  // noDelay for the TCP socket under each implicit TLS connection too.
  tlsServer?.on("connection", (socket: net.Socket) => socket.setNoDelay(true));

  const servers: net.Server[] = [];
  try {
    const port = plainServer ? await listen(plainServer, host, config.port ?? DEFAULT_SMTP_PORT) : null;
    if (plainServer) servers.push(plainServer);
    const tlsPort = tlsServer ? await listen(tlsServer, host, config.tlsPort ?? DEFAULT_SMTPS_PORT) : null;
    if (tlsServer) servers.push(tlsServer);
    const where = [
      port !== null && `${host}:${port} (STARTTLS)`,
      tlsPort !== null && `${host}:${tlsPort} (TLS)`,
    ];
    logger.info(`smtpd listening on ${where.filter(Boolean).join(", ")}`);

    /** Rereads the files; a bad pair (say, a key not yet replaced) throws and the old one stays. */
    function reload(): void {
      const next = loadCertificate();
      // smtpd_tls_CAfile is reread too; whether certificates are asked for stays as started.
      const nextClientCert = { ...clientCert, ca: clientCertPolicy(settings).ca };
      const options = contextOptions(next, nextClientCert);
      const nextContext = tls.createSecureContext(options);
      tlsServer?.setSecureContext(options);
      certificate = next;
      clientCert = nextClientCert;
      secureContext = nextContext;
      logger.info(`reloaded the certificate ${next.certFile}`);
    }
    // Certificates renewed on disk are picked up without a restart (SIGHUP does it at once).
    const watched = [certificate.certFile, certificate.keyFile, settings.get("smtpd_tls_CAfile")];
    const watch = certificate.selfSigned
      ? null
      : watchFiles(watched.filter(Boolean), () => {
          try {
            reload();
          } catch (error) {
            logger.warn(`warning: keeping the old certificate: ${describe(error)}`);
          }
        });

    let stopped: Promise<void> | null = null;
    return {
      port,
      tlsPort,
      get certificate() {
        return certificate;
      },
      reloadCertificate: reload,
      stop(graceMs = 10_000) {
        stopped ??= (async () => {
          stopping = true;
          watch?.close();
          const closed = Promise.all(
            servers.map((server) => new Promise((resolve) => server.close(resolve))),
          );
          for (const connection of connections) connection.interrupt?.();
          const cutOff = setTimeout(() => {
            for (const connection of connections) connection.socket.destroy();
          }, graceMs);
          cutOff.unref();
          await closed;
          clearTimeout(cutOff);
        })();
        return stopped;
      },
    };
  } catch (error) {
    for (const server of servers) server.close();
    throw error;
  }
}

interface ServeOptions {
  backend: SmtpBackend;
  parameters: RawSettings;
  logger: Logger;
  authRate: RateCounter;
  idleMs: number;
  handshakeMs: number;
  secureContext: () => tls.SecureContext;
  clientCert: () => ClientCertPolicy;
  stopping: () => boolean;
}

/** One SMTP session over one accepted connection, until it closes. */
async function serve(connection: Connection, implicitTls: boolean, options: ServeOptions): Promise<void> {
  const { backend, logger } = options;
  const raw = connection.socket;
  const certPolicy = options.clientCert();
  let socket: Socket = acceptedNodeSocket(
    raw,
    implicitTls
      ? {}
      : { secureContext: options.secureContext(), tlsOptions: clientCertTlsOptions(certPolicy) },
  );
  const client: ClientInfo = { address: peerAddress(raw.remoteAddress), name: "unknown" };
  // Settings are read per connection, so `postconf -e` applies to the next session; the
  // listener's own parameters (tests, embedders) apply to SASL as to the session.
  const settings = (await backend.loadSettings()).withLayer(options.parameters);
  const config = sessionConfig(settings, options.parameters);
  let secure = implicitTls;
  /** What the session learns of a finished handshake; null: refused (smtpd_tls_req_ccert), closed. */
  const tlsInfo = async (): Promise<TlsInfo | null> => {
    const verdict = await clientCertVerdict(tlsSocketOf(socket), certPolicy, () =>
      backend.clientCertLogins(settings),
    ).catch((error: unknown): ClientCertVerdict => {
      // A table that cannot answer costs the client EXTERNAL, not the session.
      logger.warn(`warning: postern_tls_ccert_login_maps lookup failed: ${describe(error)}`);
      return { ok: true, identity: null, fingerprint: null };
    });
    if (!verdict.ok) {
      logger.info(`NOQUEUE: abort: TLS from unknown[${client.address}]: ${verdict.reason}`);
      await socket.write(encoder.encode(`421 4.7.1 ${config.hostname} Error: ${verdict.reason}\r\n`));
      return null;
    }
    const identity = verdict.identity ? { peerCertificateIdentity: verdict.identity } : {};
    return { ...channelBinding(socket), ...identity };
  };
  const implicitInfo = implicitTls ? await tlsInfo() : null;
  if (implicitTls && implicitInfo === null) return void (await socket.close().catch(() => {}));
  const ports = backend.session({ settings, client, secure: () => secure, logger });
  const session = new SmtpSession({
    config,
    client,
    tls: implicitInfo,
    tlsAvailable: !implicitTls,
    ports: {
      ...(config.saslAuthEnable ? { auth: ports.auth } : {}),
      policy: ports.policy,
      accept: ports.accept,
      clock: { now: Date.now },
      logger,
      authRate: options.authRate,
      queueId: () => newQueueId(),
    },
  });

  /** Carries out outputs in order; false once the connection is closed. */
  const perform = async (outputs: SessionOutput[]): Promise<boolean> => {
    for (const output of outputs) {
      if (output.kind === "reply") await socket.write(encoder.encode(output.text));
      else if (output.kind === "delay") await new Promise((resolve) => setTimeout(resolve, output.ms));
      else if (output.kind === "starttls") {
        const upgrading = socket.startTls();
        const upgraded = await withTimeout(upgrading, options.handshakeMs);
        if (upgraded.timedOut) {
          upgrading.then((late) => late.close()).catch(() => {});
          logger.info(`timeout during TLS handshake from ${client.address}`);
          return false;
        }
        socket = upgraded.value;
        secure = true;
        const info = await tlsInfo();
        if (info === null) return false;
        session.tlsStarted(info);
      } else {
        await socket.close();
        return false;
      }
    }
    return true;
  };

  try {
    if (!(await perform(await session.greet()))) return;
    for (;;) {
      if (options.stopping()) return void (await shutdown(session, socket, config.hostname));
      const reading = socket.read();
      reading.catch(() => {}); // settled after a timeout or stop too; its error then means nothing
      const stop = new Promise<"stop">((resolve) => {
        connection.interrupt = () => resolve("stop");
      });
      const read = await withTimeout(Promise.race([reading, stop]), options.idleMs).catch(() => null);
      const bytes = read === null ? null : read.timedOut ? ("timeout" as const) : read.value;
      connection.interrupt = null;
      if (bytes === "timeout") {
        await perform(session.timeout());
        return;
      }
      if (bytes === "stop") continue; // the top of the loop says goodbye
      if (bytes === null) return await session.end();
      if (!(await perform(await session.feed(bytes)))) return;
    }
  } catch (error) {
    // A broken pipe or a failed handshake: the client is gone.
    logger.info(`lost connection from ${client.address}: ${describe(error)}`);
    await session.end();
  } finally {
    await socket.close().catch(() => {});
    await ports.close?.();
  }
}

async function shutdown(session: SmtpSession, socket: Socket, hostname: string): Promise<void> {
  await session.end();
  await socket.write(encoder.encode(`421 4.3.2 ${hostname} Service shutting down\r\n`)).catch(() => {});
  await socket.close();
}

/** Postfix's answer beyond the process limit, without a session. */
async function refuseBusy(raw: net.Socket, backend: SmtpBackend, logger: Logger): Promise<void> {
  const hostname = (await backend.loadSettings()).get("myhostname");
  const address = peerAddress(raw.remoteAddress);
  logger.warn(`warning: too many connections: refusing ${address}`);
  const socket = acceptedNodeSocket(raw);
  await socket.write(encoder.encode(`421 4.7.0 ${hostname} Error: too many connections\r\n`)).catch(() => {});
  await socket.close();
}

/** postern_tls_ccert_login_maps as one table: the first map with the key answers. */
function ccertLoginTable(settings: Settings, services: Services): LookupTable | null {
  const tables = parseMapList(settings.get("postern_tls_ccert_login_maps")).map((spec) =>
    services.openTable(spec),
  );
  return tables.length === 0 ? null : { lookup: (key) => lookupFirst(tables, key) };
}

function channelBinding(socket: Socket): { channelBinding?: Uint8Array } {
  const data = tlsExporter(socket);
  return data ? { channelBinding: data } : {};
}

/** The embedded back end: SASL over this runtime's accounts, its restriction lists, its queue. */
export function localSmtpBackend(services: Services): SmtpBackend {
  // Per listener: CRAM-MD5 / DIGEST-MD5 are dropped while no account has a shared secret.
  const offerFilter = sharedSecretOffer(() => services.accounts.anySharedSecret());
  // Messages finishing together share one SQLite commit; each 250 still waits for it.
  const store = new GroupCommitStore(services.messages);
  return {
    loadSettings: () => services.loadSettings(),
    clientCertLogins: (settings) => ccertLoginTable(settings, services),
    session({ settings, client, secure, logger }) {
      const sasl = sessionSasl(services, settings, client, secure, logger, offerFilter);
      return {
        auth: sasl.port,
        // Table answers are remembered for the session (sender login maps and the like).
        policy: restrictionPolicy(
          settings,
          sessionTables((spec) => services.openTable(spec)),
        ),
        accept: smtpAcceptPort(services, store, logger, client, sasl.accountOf),
        close: () => sasl.close(),
      };
    },
  };
}

interface SessionSasl {
  port: AuthPort;
  /** The account a login authenticated in this session belongs to (null: none, or Dovecot's). */
  accountOf(username: string): string | null;
  /** Ends what the session holds (its Dovecot connection). */
  close(): Promise<void>;
}

/**
 * SASL over Postern's accounts, the same back end as HTTP; or, with smtpd_sasl_type = dovecot,
 * every Dovecot mechanism over one auth connection for the session (smtp-dovecot.ts).
 */
function sessionSasl(
  services: Services,
  settings: Settings,
  client: ClientInfo,
  secure: () => boolean,
  logger: Logger,
  offerFilter: EnabledFilter,
): SessionSasl {
  const dovecot = saslType(settings) === "dovecot" ? smtpDovecotSasl(settings, client, secure, logger) : null;
  const contexts = new Map<boolean, RequestSasl>();
  const current = (tlsActive: boolean) => {
    let sasl = contexts.get(tlsActive);
    if (!sasl) {
      sasl = saslContext(services, settings, client, tlsActive);
      contexts.set(tlsActive, sasl);
    }
    return sasl;
  };
  const accounts = new Map<string, string | null>();
  const base = saslAuthPort({
    settings,
    context: (transport) => ({
      ...current(transport.tls).context,
      channelBinding: transport.channelBinding,
      externalIdentity: transport.externalIdentity,
    }),
    enabled: async () =>
      dovecot ? dovecot.enabled() : offerFilter(await current(secure()).backend.enabled()),
    mechanism: (name) => (dovecot ? dovecot.mechanism(name) : current(secure()).backend.mechanism(name)),
    async login(identity, mechanism) {
      const found = await current(secure()).backend.identity(identity.authzid, mechanism);
      if (!found) return null;
      accounts.set(found.username, found.accountId);
      return found.username;
    },
  });
  // auth.failed for the named login's webhook endpoints, as on HTTP (the log line is the session's).
  const port: AuthPort = {
    ...base,
    failed: (failure) => services.events.authFailed({ ...failure, clientAddress: client.address }),
  };
  return {
    port,
    accountOf: (username) => accounts.get(username) ?? null,
    close: async () => {
      await dovecot?.close();
    },
  };
}

function timeoutOf(settings: Settings, name: "smtpd_timeout" | "smtpd_starttls_timeout"): number {
  const value = settings.get(name) || DEFAULT_TIMEOUT;
  const ms = parseDuration(value);
  if (ms === null || ms === 0) throw new Error(`${name} = ${value}: expected a time like 300s, 5m`);
  return ms;
}

function listen(server: net.Server, host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      resolve((server.address() as net.AddressInfo).port);
    });
  });
}

function describe(error: unknown): string {
  return printable(error instanceof Error ? error.message : String(error));
}
