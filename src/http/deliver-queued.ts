// One delivery run over the app's services: what the Workers queue consumer and the Node poller
// both do with the ids they are handed.
import { deliverMessages } from "../core/delivery/deliver.ts";
import type { Services } from "./services.ts";

export async function deliverQueued(ids: string[], services: Services): Promise<void> {
  // Per run, so a `postconf -e` reaches the next run without a restart.
  const settings = await services.loadSettings();
  await deliverMessages(ids, {
    store: services.messages,
    bodies: services.bodies,
    queue: services.queue,
    connect: services.connect,
    logger: services.logger,
    events: services.events,
    settings,
    openTable: (spec) => services.openTable(spec),
    relayAuth: { oauth2: services.relayAuth, authCache: services.relayAuth },
  });
}
