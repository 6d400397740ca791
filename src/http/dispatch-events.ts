// One run of the event dispatcher over the app's services: what the Workers queue consumer, the
// cron sweeper and the Node poller do when woken.
import { openSecret } from "../core/auth/secret-box.ts";
import { DISPATCH_BATCH, dispatchDue } from "../core/webhooks/dispatch.ts";
import type { Services } from "./services.ts";
import { endpointSecretContext, requireKeys } from "./webhook-services.ts";

/** Sends every due event; returns when the earliest still-pending one is due (null: none). */
export async function dispatchEvents(
  services: Services,
  options: { now?: () => number; fetch?: typeof fetch } = {},
): Promise<number | null> {
  const deps = {
    store: services.endpoints,
    openSecret: (id: string, sealed: string) =>
      openSecret(requireKeys(services.secretKeys), sealed, endpointSecretContext(id)),
    // Called through a closure: Workers refuse fetch detached from the global object.
    fetch: options.fetch ?? ((...args: Parameters<typeof fetch>) => fetch(...args)),
    logger: services.logger,
    now: options.now,
  };
  // A full batch may mean more is due: go on until a batch comes back short.
  while ((await dispatchDue(deps)) === DISPATCH_BATCH) {}
  return services.endpoints.earliestDue();
}
