// What the HTTP app needs from its runtime, injected per request: the Workers entry builds these
// from bindings, the Node entry from SQLite and the file system.
import type { KeyRing } from "../core/auth/secret-box.ts";
import type { VerificationCache } from "../core/auth/verification-cache.ts";
import type { Settings } from "../core/config/settings.ts";
import type { LookupTable } from "../core/maps/lookup-table.ts";
import type { Connect } from "../core/net/socket.ts";
import type { BodyStore, DeliveryQueue, Logger } from "../core/ports.ts";
import type { EventHub } from "../core/webhooks/event-hub.ts";
import type { DbAccountStore } from "../db/account-store.ts";
import type { DbEndpointStore } from "../db/endpoint-store.ts";
import type { DbMapStore } from "../db/map-store.ts";
import type { DbMessageStore } from "../db/message-store.ts";
import type { DbReceiverStore } from "../db/receiver-store.ts";
import type { DbRelayAuthStore } from "../db/relay-auth-store.ts";
import type { DbSettingsStore } from "../db/settings-store.ts";
import type { DbSubmissionStore } from "../db/submission-store.ts";
import type { DbTemplateStore } from "../db/template-store.ts";

export interface Services {
  accounts: DbAccountStore;
  maps: DbMapStore;
  /** OAuth 2.0 relay credentials and the smtp_sasl_auth_cache_name table. */
  relayAuth: DbRelayAuthStore;
  messages: DbMessageStore;
  /** Accepting messages (batches, idempotency keys): one atomic write. */
  submissions: DbSubmissionStore;
  settingsStore: DbSettingsStore;
  bodies: BodyStore;
  queue: DeliveryQueue;
  logger: Logger;
  /** Outgoing TCP: connect() on Workers, node:net on Node (Dovecot's auth service). */
  connect: Connect;
  /** Admin API bearer secret (POSTERN_ADMIN_TOKEN). Unset: the admin API is closed. */
  adminToken: string | undefined;
  /** POSTERN_SECRET_KEY: seals secrets at rest. Null: no secrets can be stored or opened. */
  secretKeys: KeyRing | null;
  /** Recent successful password verifications (per isolate / process). */
  verificationCache: VerificationCache | null;
  /** Keys derived from POSTERN_SECRET_KEY for session tokens and SASL continuations; null without it. */
  sessionKey: (() => Promise<Uint8Array>) | null;
  continuationKey: (() => Promise<Uint8Array>) | null;
  /** Keys the stand-in values SCRAM shows for unknown logins. */
  standInKey: (() => Promise<Uint8Array>) | null;
  /** Defaults, deployment vars and run-time overrides, resolved. */
  loadSettings(): Promise<Settings>;
  /** Opens a map spec: d1:NAME, inline:{...}, static:VALUE. */
  openTable(spec: string): LookupTable;
  /** Webhooks (src/core/webhooks): templates, inbound receivers, event endpoints and their outbox. */
  templates: DbTemplateStore;
  receivers: DbReceiverStore;
  endpoints: DbEndpointStore;
  /** Delivery and auth events for the accounts' webhook endpoints. */
  events: EventHub;
}

export interface ClientInfo {
  address: string;
  name: string;
}

export interface SaslIdentity {
  /** Null for logins vouched for by an external back end (smtpd_sasl_type = dovecot). */
  accountId: string | null;
  username: string;
  method: string;
}

export type AppEnv = {
  Variables: {
    services: Services;
    client: ClientInfo;
    requestSettings: Settings;
  };
};
