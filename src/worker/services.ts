// Builds the app's services from Workers bindings.
import { deriveContinuationKey } from "../core/auth/continuation.ts";
import { deriveKey } from "../core/auth/derive-key.ts";
import { type KeyRing, parseKeyRing } from "../core/auth/secret-box.ts";
import { deriveSessionKey } from "../core/auth/session-token.ts";
import { VerificationCache } from "../core/auth/verification-cache.ts";
import { isParameterName } from "../core/config/parameters.ts";
import { type RawSettings, Settings } from "../core/config/settings.ts";
import { openTable } from "../core/maps/open-table.ts";
import { DbAccountStore } from "../db/account-store.ts";
import { openDatabase } from "../db/database.ts";
import { DbMapStore } from "../db/map-store.ts";
import { DbMessageStore } from "../db/message-store.ts";
import { DbSettingsStore } from "../db/settings-store.ts";
import type { Services } from "../http/services.ts";
import { connectSocket } from "./connect-socket.ts";
import { consoleLogger } from "./console-logger.ts";
import type { Env } from "./env.ts";
import { CloudflareDeliveryQueue } from "./queue-producer.ts";
import { R2BodyStore } from "./r2-body-store.ts";

/** Postfix parameters given as wrangler vars (same names). */
function varsOf(env: Env): RawSettings {
  const vars: RawSettings = {};
  for (const [name, value] of Object.entries(env)) {
    if (isParameterName(name) && typeof value === "string") vars[name] = value;
  }
  return vars;
}

/** Per isolate: survives between requests, never shared across isolates. */
const verificationCache = new VerificationCache();
const derivedKeys = new Map<string, Promise<Uint8Array>>();

function derived(ring: KeyRing | null, purpose: string, derive: (secret: Uint8Array) => Promise<Uint8Array>) {
  if (!ring) return null;
  const secret = ring.keys.get(ring.current)!;
  return () => {
    const id = `${purpose}:${ring.current}`;
    let key = derivedKeys.get(id);
    if (!key) {
      key = derive(secret);
      derivedKeys.set(id, key);
    }
    return key;
  };
}

export function workerServices(env: Env, program = "postern/http"): Services {
  const db = openDatabase(env.DB);
  const secretKeys = env.POSTERN_SECRET_KEY ? parseKeyRing(env.POSTERN_SECRET_KEY) : null;
  const maps = new DbMapStore(db, secretKeys);
  const settingsStore = new DbSettingsStore(db);
  return {
    accounts: new DbAccountStore(db),
    maps,
    messages: new DbMessageStore(db),
    settingsStore,
    bodies: new R2BodyStore(env.BODIES),
    queue: new CloudflareDeliveryQueue(env.DELIVERY),
    logger: consoleLogger(program),
    connect: connectSocket,
    adminToken: env.POSTERN_ADMIN_TOKEN,
    secretKeys,
    verificationCache,
    sessionKey: derived(secretKeys, "session", deriveSessionKey),
    continuationKey: derived(secretKeys, "continuation", deriveContinuationKey),
    standInKey: derived(secretKeys, "stand-in", (secret) => deriveKey(secret, "postern scram stand-in v1")),
    loadSettings: async () => new Settings(varsOf(env), await settingsStore.load()),
    openTable: (spec) => openTable(spec, { d1: (name) => maps.table(name) }),
  };
}
