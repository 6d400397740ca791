// `node src/node/main.ts`: Postern on Node. The same HTTP API as the Worker, a SQLite file and a
// folder of bodies under POSTERN_DATA_DIR, and a local poller relaying to the smarthost.
//
// Environment: POSTERN_DATA_DIR (default ./data), POSTERN_HTTP_HOST (default 127.0.0.1),
// POSTERN_HTTP_PORT (default 8787), POSTERN_ADMIN_TOKEN, POSTERN_SECRET_KEY, and any Postfix
// parameter under its own name (relayhost=[smtp.example.com]:587), as wrangler vars on Workers,
// over a main.cf file (POSTERN_CONFIG, default ./main.cf when present).
// SMTP submission: POSTERN_SMTP_HOST (default POSTERN_HTTP_HOST), POSTERN_SMTP_PORT (STARTTLS,
// default 2587), POSTERN_SMTPS_PORT (implicit TLS, default 2465); "off" disables one.
// POSTERN_SMTP_MAX_CONNECTIONS (default 100). smtpd_tls_cert_file / smtpd_tls_key_file name the
// certificate (else a self-signed one is made in the data folder); SIGHUP rereads it.
// With postern_upstream_url set (main.cf or environment), upstream mode: only the SMTP listeners,
// handing authentication, policy and messages to that gateway; no database, queue or HTTP API.
import path from "node:path";
import { parametersOf } from "../core/config/parameters-of.ts";
import { readConfigFile } from "./config-file.ts";
import { ensureLocalSecrets } from "./local-secrets.ts";
import { DEFAULT_PORT, type RunningNodeServer, startNodeServer } from "./node-server.ts";
import { DEFAULT_SMTP_PORT, DEFAULT_SMTPS_PORT, type SmtpListenerConfig } from "./smtp-listener.ts";
import { startUpstreamAdapter } from "./upstream/upstream-adapter.ts";

const env = process.env;
const dataDir = path.resolve(env.POSTERN_DATA_DIR || "data");
const port = env.POSTERN_HTTP_PORT ? Number(env.POSTERN_HTTP_PORT) : DEFAULT_PORT;
if (!Number.isInteger(port) || port < 0 || port > 65_535) {
  console.error(`postern/master: fatal: POSTERN_HTTP_PORT=${env.POSTERN_HTTP_PORT}: not a port number`);
  process.exit(2);
}

function portFrom(name: string, fallback: number): number | null {
  const value = env[name];
  if (value === undefined || value === "") return fallback;
  if (value.toLowerCase() === "off") return null;
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 0 || parsed > 65_535) {
    console.error(`postern/master: fatal: ${name}=${value}: not a port number (or off)`);
    process.exit(2);
  }
  return parsed;
}

const maxConnections = Number(env.POSTERN_SMTP_MAX_CONNECTIONS || 100);
const httpHost = env.POSTERN_HTTP_HOST || "127.0.0.1";

let configFile: Record<string, string | undefined>;
try {
  configFile = readConfigFile(env.POSTERN_CONFIG, (line) => console.warn(`postern/postconf: ${line}`));
} catch (error) {
  console.error(`postern/postconf: fatal: ${(error as Error).message}`);
  process.exit(2);
}

const settingsOverrides = { ...configFile, ...parametersOf(env) };
const smtp: SmtpListenerConfig = {
  host: env.POSTERN_SMTP_HOST || httpHost,
  port: portFrom("POSTERN_SMTP_PORT", DEFAULT_SMTP_PORT),
  tlsPort: portFrom("POSTERN_SMTPS_PORT", DEFAULT_SMTPS_PORT),
  ...(Number.isInteger(maxConnections) && maxConnections > 0 ? { maxConnections } : {}),
};

let running: Pick<RunningNodeServer, "smtp" | "stop">;
try {
  if (settingsOverrides.postern_upstream_url) {
    running = await startUpstreamAdapter({ settings: settingsOverrides, dataDir, smtp });
  } else {
    // Without both secrets in the environment, the data folder keeps its own (made on first start).
    const local =
      env.POSTERN_ADMIN_TOKEN && env.POSTERN_SECRET_KEY
        ? { adminToken: env.POSTERN_ADMIN_TOKEN, secretKey: env.POSTERN_SECRET_KEY }
        : ensureLocalSecrets(dataDir, (line) => console.log(`postern/master: ${line}`));
    running = await startNodeServer({
      dataDir,
      host: httpHost,
      port,
      adminToken: env.POSTERN_ADMIN_TOKEN || local.adminToken,
      secretKey: env.POSTERN_SECRET_KEY || local.secretKey,
      settingsOverrides,
      smtp,
    });
  }
} catch (error) {
  console.error(`postern/master: fatal: ${(error as Error).message}`);
  process.exit(1);
}

let stopping = false;
function shutdown(signal: NodeJS.Signals): void {
  if (stopping) {
    // A second signal: the operator wants out now. Rows stay queued; leases are dropped at start.
    console.error(`postern/master: ${signal} again: exiting at once`);
    process.exit(1);
  }
  stopping = true;
  console.log(`postern/master: ${signal}: stopping (finishing requests and deliveries in flight)`);
  running.stop().then(
    () => {
      console.log("postern/master: stopped");
      process.exit(0);
    },
    (error: unknown) => {
      console.error(`postern/master: error while stopping: ${(error as Error).message}`);
      process.exit(1);
    },
  );
}
process.on("SIGHUP", () => {
  try {
    running.smtp?.reloadCertificate();
  } catch (error) {
    console.error(`postern/master: SIGHUP: keeping the old certificate: ${(error as Error).message}`);
  }
});
process.on("SIGTERM", shutdown);
process.on("SIGINT", shutdown);
