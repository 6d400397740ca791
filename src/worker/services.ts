// Builds the app's services from Workers bindings.
import { parseKeyRing } from "../core/auth/secret-box.ts";
import { VerificationCache } from "../core/auth/verification-cache.ts";
import { parametersOf } from "../core/config/parameters-of.ts";
import { Settings } from "../core/config/settings.ts";
import { consoleLogger } from "../core/console-logger.ts";
import { openTable } from "../core/maps/open-table.ts";
import { DbAccountStore } from "../db/account-store.ts";
import { DbMapStore } from "../db/map-store.ts";
import { DbMessageStore } from "../db/message-store.ts";
import { DbRelayAuthStore } from "../db/relay-auth-store.ts";
import { DbSettingsStore } from "../db/settings-store.ts";
import { DbSubmissionStore } from "../db/submission-store.ts";
import { derivedKeys } from "../http/derived-keys.ts";
import type { Services } from "../http/services.ts";
import { webhookServices } from "../http/webhook-services.ts";
import { connectSocket } from "./connect-socket.ts";
import { openDatabase } from "./d1-database.ts";
import type { Env } from "./env.ts";
import { CloudflareDeliveryQueue } from "./queue-producer.ts";
import { R2BodyStore } from "./r2-body-store.ts";

/** Per isolate: survives between requests, never shared across isolates. */
const verificationCache = new VerificationCache();

export function workerServices(env: Env, program = "postern/http"): Services {
  const db = openDatabase(env.DB);
  const secretKeys = env.POSTERN_SECRET_KEY ? parseKeyRing(env.POSTERN_SECRET_KEY) : null;
  const maps = new DbMapStore(db, secretKeys);
  const settingsStore = new DbSettingsStore(db);
  const accounts = new DbAccountStore(db);
  const logger = consoleLogger(program);
  return {
    accounts,
    maps,
    relayAuth: new DbRelayAuthStore(db, secretKeys),
    messages: new DbMessageStore(db),
    submissions: new DbSubmissionStore(db),
    settingsStore,
    bodies: new R2BodyStore(env.BODIES),
    queue: new CloudflareDeliveryQueue(env.DELIVERY),
    logger,
    connect: connectSocket,
    adminToken: env.POSTERN_ADMIN_TOKEN,
    secretKeys,
    verificationCache,
    ...derivedKeys(secretKeys),
    // Postfix parameters given as wrangler vars (same names), then run-time overrides.
    loadSettings: async () => new Settings(parametersOf(env), await settingsStore.load()),
    openTable: (spec) => openTable(spec, { d1: (name) => maps.table(name) }),
    ...webhookServices(db, accounts, () => wakeEvents(env), logger),
  };
}

/** Wakes the event dispatcher through the delivery queue, now or after a delay (capped at 24 h). */
export async function wakeEvents(env: Env, delayMs = 0): Promise<void> {
  const delaySeconds = Math.min(24 * 3600, Math.max(0, Math.ceil(delayMs / 1000)));
  await env.DELIVERY.send({ id: "", events: true }, { delaySeconds });
}
