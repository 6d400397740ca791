// Where the accept path, the delivery agent and the authentication code report what happened.
// Each report becomes one outbox row per endpoint of the account that subscribed to its type (a
// durable write), then the dispatcher is woken. A report never fails its caller: the message is
// already stored (or the login already refused); a lost event is logged, not thrown.
import { newQueueId } from "../ids.ts";
import type { Logger } from "../ports.ts";
import { printable } from "../printable.ts";
import { type EventType, eventPayload } from "./event-types.ts";

export interface OutboxWriter {
  /** Ids of the enabled endpoints of the account that take this type. */
  endpointsFor(accountId: string, type: EventType): Promise<string[]>;
  append(
    rows: { id: string; endpointId: string; type: EventType; payload: string }[],
    now: number,
  ): Promise<void>;
}

export interface EventHubDeps {
  store: OutboxWriter;
  /** The account of a login, for auth.failed. */
  accountIdOf: (login: string) => Promise<string | null>;
  /** Make the dispatcher look at the outbox (a queue message, a poller wake-up). */
  wake: () => Promise<void> | void;
  logger: Logger;
  now?: () => number;
}

export interface AcceptedMessage {
  id: string;
  accountId: string | null;
  saslUsername: string | null;
  mailFrom: string;
  recipients: string[];
  size: number;
  headerMessageId: string | null;
  state: "queued" | "held" | "discarded";
  stateReason: string | null;
}

export interface DeliveredMessage {
  id: string;
  accountId?: string | null;
  mailFrom: string;
}

export interface RecipientOutcome {
  recipient: string;
  status: "sent" | "deferred" | "bounced";
  reply: string;
}

interface PendingEvent {
  type: EventType;
  data: Record<string, unknown>;
}

export class EventHub {
  readonly #deps: EventHubDeps;
  readonly #pending = new Set<Promise<void>>();

  constructor(deps: EventHubDeps) {
    this.#deps = deps;
  }

  /** message.accepted, and message.held for a held message. */
  accepted(m: AcceptedMessage): Promise<void> {
    return this.acceptedMany([m]);
  }

  /** The same for a batch: one lookup, one outbox write and one wake-up per account. */
  async acceptedMany(messages: readonly AcceptedMessage[]): Promise<void> {
    const byAccount = new Map<string, PendingEvent[]>();
    for (const m of messages) {
      if (!m.accountId) continue;
      byAccount.set(m.accountId, [...(byAccount.get(m.accountId) ?? []), ...acceptedEvents(m)]);
    }
    for (const [accountId, events] of byAccount) await this.#record(accountId, events);
  }

  /** message.sent / message.deferred / message.bounced, one per recipient outcome. */
  async delivered(m: DeliveredMessage, relay: string, outcomes: RecipientOutcome[]): Promise<void> {
    if (!m.accountId) return;
    await this.#record(
      m.accountId,
      outcomes.map((o) => ({
        type: `message.${o.status}` as const,
        data: {
          message_id: m.id,
          from: m.mailFrom,
          recipient: o.recipient,
          status: o.status,
          relay,
          reply: o.reply,
        },
      })),
    );
  }

  /** auth.failed for a login that has an account. Runs in the background; settle() awaits it. */
  authFailed(info: {
    login: string | null | undefined;
    mechanism: string;
    reason: string;
    clientAddress: string;
  }): void {
    const { login } = info;
    if (!login) return;
    this.#track(
      (async () => {
        const accountId = await this.#deps.accountIdOf(login);
        if (!accountId) return;
        await this.emit(accountId, "auth.failed", {
          login: printable(login),
          mechanism: printable(info.mechanism, 40),
          reason: printable(info.reason),
          client_address: info.clientAddress,
        });
      })(),
    );
  }

  /** Waits for background reports (the end of a request). */
  async settle(): Promise<void> {
    while (this.#pending.size) await Promise.all([...this.#pending]);
  }

  emit(accountId: string, type: EventType, data: Record<string, unknown>): Promise<void> {
    return this.#record(accountId, [{ type, data }]);
  }

  /** One outbox write and one wake-up for all the events of one report. */
  async #record(accountId: string, events: PendingEvent[]): Promise<void> {
    const now = (this.#deps.now ?? Date.now)();
    try {
      const endpointsOf = new Map<EventType, string[]>();
      for (const { type } of events) {
        if (!endpointsOf.has(type))
          endpointsOf.set(type, await this.#deps.store.endpointsFor(accountId, type));
      }
      const rows = events.flatMap(({ type, data }) => {
        const payload = eventPayload(type, now, data);
        return endpointsOf
          .get(type)!
          .map((endpointId) => ({ id: `msg_${newQueueId(now)}`, endpointId, type, payload }));
      });
      if (rows.length === 0) return;
      await this.#deps.store.append(rows, now);
      await this.#deps.wake();
    } catch (error) {
      const types = [...new Set(events.map((e) => e.type))].join(", ");
      this.#deps.logger.warn(
        `warning: ${types} event for account ${accountId} not recorded: ${(error as Error).message}`,
      );
    }
  }

  #track(promise: Promise<void>): void {
    const tracked = promise.catch((error) => {
      this.#deps.logger.warn(`warning: event not recorded: ${(error as Error).message}`);
    });
    this.#pending.add(tracked);
    void tracked.finally(() => this.#pending.delete(tracked));
  }
}

function acceptedEvents(m: AcceptedMessage): PendingEvent[] {
  const events: PendingEvent[] = [
    {
      type: "message.accepted",
      data: {
        message_id: m.id,
        status: m.state,
        from: m.mailFrom,
        to: m.recipients,
        size: m.size,
        header_message_id: m.headerMessageId,
        sasl_username: m.saslUsername,
      },
    },
  ];
  if (m.state === "held") {
    events.push({
      type: "message.held",
      data: { message_id: m.id, from: m.mailFrom, to: m.recipients, reason: m.stateReason },
    });
  }
  return events;
}
