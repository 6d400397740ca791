// The webhook part of Services, built the same way by both runtimes from a database and a way
// to wake the event dispatcher.
import type { KeyRing } from "../core/auth/secret-box.ts";
import type { Logger } from "../core/ports.ts";
import { EventHub } from "../core/webhooks/event-hub.ts";
import type { DbAccountStore } from "../db/account-store.ts";
import type { Database } from "../db/database.ts";
import { DbEndpointStore } from "../db/endpoint-store.ts";
import { DbReceiverStore } from "../db/receiver-store.ts";
import { DbTemplateStore } from "../db/template-store.ts";
import type { Services } from "./services.ts";

export function webhookServices(
  db: Database,
  accounts: DbAccountStore,
  wake: () => Promise<void> | void,
  logger: Logger,
): Pick<Services, "templates" | "receivers" | "endpoints" | "events"> {
  const endpoints = new DbEndpointStore(db);
  return {
    templates: new DbTemplateStore(db),
    receivers: new DbReceiverStore(db),
    endpoints,
    events: new EventHub({
      store: endpoints,
      accountIdOf: async (login) => (await accounts.findByLogin(login))?.id ?? null,
      wake,
      logger,
    }),
  };
}

/** Where a sealed secret lives: a sealed value copied into another row fails to open. */
export const receiverSecretContext = (id: string) => `webhook_receivers:secret:${id}`;
export const endpointSecretContext = (id: string) => `webhook_endpoints:secret:${id}`;

export function requireKeys(keys: KeyRing | null): KeyRing {
  if (!keys) throw new Error("POSTERN_SECRET_KEY is not set");
  return keys;
}
