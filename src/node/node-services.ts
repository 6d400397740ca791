// Builds the app's services for Node from a data folder: SQLite at <dataDir>/postern.db, bodies
// under <dataDir>/bodies, the local delivery queue, relay over node:net/node:tls. The counterpart
// of src/worker/services.ts; what both need is shared through src/http and src/core.
import path from "node:path";
import { parseKeyRing } from "../core/auth/secret-box.ts";
import { VerificationCache } from "../core/auth/verification-cache.ts";
import { type RawSettings, Settings } from "../core/config/settings.ts";
import { consoleLogger } from "../core/console-logger.ts";
import { openTable } from "../core/maps/open-table.ts";
import type { Connect } from "../core/net/socket.ts";
import { FINISHED_EVENT_RETENTION_MS } from "../core/webhooks/event-types.ts";
import { SEEN_ID_RETENTION_MS } from "../core/webhooks/standard-webhooks.ts";
import { DbAccountStore } from "../db/account-store.ts";
import { DbMapStore } from "../db/map-store.ts";
import { DbMessageStore } from "../db/message-store.ts";
import { DbRelayAuthStore } from "../db/relay-auth-store.ts";
import { DbSubmissionStore } from "../db/submission-store.ts";
import { deliverQueued } from "../http/deliver-queued.ts";
import { derivedKeys } from "../http/derived-keys.ts";
import { dispatchEvents } from "../http/dispatch-events.ts";
import type { Services } from "../http/services.ts";
import { webhookServices } from "../http/webhook-services.ts";
import { CachedSettingsStore } from "./cached-settings-store.ts";
import { type DataDirLock, lockDataDir } from "./data-dir-lock.ts";
import { DiskBodyStore } from "./disk-body-store.ts";
import { EventPoller } from "./event-poller.ts";
import { LocalDeliveryQueue, type LocalQueueOptions } from "./local-queue.ts";
import { connectNode } from "./net-socket.ts";
import { applyMigrations, openSqliteDatabase, type SqliteDatabase } from "./sqlite-database.ts";

export interface NodeConfig {
  /** Holds postern.db, bodies/ and the lock file; one process at a time. */
  dataDir: string;
  /** Bearer secret of the admin API (POSTERN_ADMIN_TOKEN). Unset: the admin API is closed. */
  adminToken?: string | undefined;
  /** Key ring for secrets at rest (POSTERN_SECRET_KEY): `kid:base64key[,kid:base64key...]`. */
  secretKey?: string | undefined;
  /** main.cf parameters of this deployment (the wrangler vars of Workers); `postconf -e` overrides them. */
  settingsOverrides?: RawSettings;
  /** Outgoing TCP; default node:net / node:tls. */
  connect?: Connect;
  /** Poller tuning. */
  queue?: Omit<LocalQueueOptions, "store" | "deliver" | "logger">;
}

export interface NodeServices {
  /** For the HTTP app (logs as postern/http). */
  services: Services;
  /** Not started: call queue.start() once the process is ready to deliver. */
  queue: LocalDeliveryQueue;
  /** The webhook event dispatcher; not started: call events.start() with queue.start(). */
  events: EventPoller;
  database: SqliteDatabase;
  bodies: DiskBodyStore;
  /** Stops the poller (letting deliveries in flight finish), closes the database, unlocks the folder. */
  close(): Promise<void>;
}

export const DATABASE_FILE = "postern.db";
export const BODIES_DIR = "bodies";
const IDEMPOTENCY_SWEEP_MS = 10 * 60_000;

/**
 * Locks the data folder, opens and migrates the database, drops the leases a killed predecessor
 * left (this process is now the only one delivering) and builds the services.
 */
export async function openNodeServices(config: NodeConfig): Promise<NodeServices> {
  const lock = await lockDataDir(config.dataDir);
  let database: SqliteDatabase | null = null;
  try {
    database = await openSqliteDatabase(path.join(config.dataDir, DATABASE_FILE));
    await applyMigrations(database);
    return await assemble(config, lock, database);
  } catch (error) {
    database?.close();
    await lock.release();
    throw error;
  }
}

async function assemble(
  config: NodeConfig,
  lock: DataDirLock,
  database: SqliteDatabase,
): Promise<NodeServices> {
  const { db } = database;
  const messages = new DbMessageStore(db);
  const released = await messages.releaseAllLeases();
  const bodies = await DiskBodyStore.open(path.join(config.dataDir, BODIES_DIR));
  const secretKeys = config.secretKey ? parseKeyRing(config.secretKey) : null;
  const maps = new DbMapStore(db, secretKeys);
  // Cached a moment per process; postconf writes through it drop the cache.
  const settingsStore = new CachedSettingsStore(db);
  const deploymentSettings = { ...config.settingsOverrides };
  const table = (name: string) => maps.table(name);

  const logger = consoleLogger("postern/http");
  const deliveryLogger = consoleLogger("postern/smtp");
  const queue = new LocalDeliveryQueue({
    ...config.queue,
    store: messages,
    deliver: (ids) => deliverQueued(ids, { ...services, logger: deliveryLogger }),
    logger: consoleLogger("postern/qmgr"),
  });
  const accounts = new DbAccountStore(db);
  let lastPrune = 0;
  const events = new EventPoller(async () => {
    // The Workers sweeper's housekeeping, once a minute: webhook ids past the timestamp tolerance
    // (no longer replayable) and old finished events.
    const now = Date.now();
    if (now - lastPrune > 60_000) {
      lastPrune = now;
      await services.receivers.forgetSeenBefore(now - SEEN_ID_RETENTION_MS);
      await services.endpoints.pruneFinished(now - FINISHED_EVENT_RETENTION_MS);
    }
    return dispatchEvents({ ...services, logger: consoleLogger("postern/webhooks") });
  }, consoleLogger("postern/webhooks"));
  const services: Services = {
    accounts,
    maps,
    relayAuth: new DbRelayAuthStore(db, secretKeys),
    messages,
    submissions: new DbSubmissionStore(db),
    settingsStore,
    bodies,
    queue,
    logger,
    connect: config.connect ?? connectNode,
    adminToken: config.adminToken || undefined,
    secretKeys,
    // Per process, like the per-isolate cache of Workers.
    verificationCache: new VerificationCache(),
    ...derivedKeys(secretKeys),
    loadSettings: async () => new Settings(deploymentSettings, await settingsStore.load()),
    // d1: keeps Workers configurations (and the defaults) working; sqlite: says what it is here.
    openTable: (spec) => openTable(spec, { d1: table, sqlite: table }),
    ...webhookServices(db, accounts, () => events.wake(), logger),
  };
  const master = consoleLogger("postern/master");
  if (lock.recovered) master.warn(`warning: ${config.dataDir} was not closed cleanly; recovering`);
  if (released > 0) master.info(`released ${released} delivery lease(s) of a previous process`);

  // Expired Idempotency-Key answers are deleted here, as the cron sweeper does on Workers.
  const sweeper = setInterval(() => {
    services.submissions.idempotency
      .sweep(Date.now())
      .catch((error) => master.warn(`warning: sweeping idempotency keys: ${(error as Error).message}`));
  }, IDEMPOTENCY_SWEEP_MS);
  sweeper.unref();

  let closed: Promise<void> | null = null;
  return {
    services,
    queue,
    events,
    database,
    bodies,
    close: () => {
      closed ??= (async () => {
        clearInterval(sweeper);
        await queue.stop();
        await events.stop();
        database.close();
        await lock.release();
      })();
      return closed;
    },
  };
}
