// The delivery agent: claims queued messages, routes each (sender_dependent_relayhost_maps, else
// relayhost), relays them to the route's next hops in order (a soft failure at one host moves the
// recipient on to the next, as Postfix's smtp(8) does), with one SMTP/LMTP session per hop and
// credential serving many messages and a few sessions in parallel; records each recipient's
// outcome, sends the sender a delivery status notification for what bounced, and schedules the
// retry. Shared by the Workers queue consumer and the Node poller.
import type { Settings } from "../config/settings.ts";
import type { LookupTable } from "../maps/lookup-table.ts";
import { parseMapList } from "../maps/parse-map-list.ts";
import type { Connect } from "../net/socket.ts";
import type { BodyStore, DeliveryQueue, Logger } from "../ports.ts";
import type { RelayOptions } from "../smtp/client/index.ts";
import type { AcceptStore } from "../submission/accept.ts";
import { type BackoffPolicy, backoffDelay, hasExpired } from "./backoff.ts";
import { queueBounceNotice } from "./bounce-notice.ts";
import { deliverOverHop, type HopMessage } from "./deliver-over-hop.ts";
import { remoteReplyOf } from "./delivery-status-notification.ts";
import { type NextHop, parseNextHops, relayLabel } from "./next-hop.ts";
import { readAll } from "./read-all.ts";
import type { RelayAuthPorts } from "./relay-auth.ts";
import { routeFor } from "./route.ts";
import { sessionSlotsFor } from "./session-slots.ts";

export interface QueuedMessage {
  id: string;
  accountId?: string | null;
  mailFrom: string;
  bodyKey: string | null;
  size: number;
  eightBit: boolean;
  smtputf8: boolean;
  /** RFC 3461 RET= and ENVID= from the submission. */
  dsnRet?: "FULL" | "HDRS" | null;
  dsnEnvid?: string | null;
  attempts: number;
  nextAttemptAt: number | null;
  createdAt: number;
}

export interface PendingRecipient {
  position: number;
  address: string;
  /** RFC 3461 NOTIFY= ("NEVER" or a comma list) and ORCPT= from the submission. */
  dsnNotify?: string | null;
  dsnOrcpt?: string | null;
}

export interface Outcome {
  position: number;
  recipient: string;
  status: "sent" | "deferred" | "bounced";
  reply: string;
  /** RFC 3463 status code, when known. */
  dsn?: string;
}

export interface AttemptInput {
  id: string;
  relay: string;
  outcomes: Outcome[];
  now: number;
  nextAttemptAt: number | null;
}

export interface DeliveryStore extends AcceptStore {
  /** Leases the queued, unleased ones among `ids` (one statement, not one per message). */
  claimMany(ids: string[], now: number, leaseMs: number): Promise<QueuedMessage[]>;
  /** Recipients still to deliver (queued or deferred) of these messages. */
  pendingRecipientsOf(ids: string[]): Promise<(PendingRecipient & { messageId: string })[]>;
  releaseLease(id: string): Promise<void>;
  /** Attempts recorded together, atomically (one commit). */
  recordAttempts(inputs: AttemptInput[]): Promise<void>;
}

export interface DeliveryDeps {
  store: DeliveryStore;
  bodies: BodyStore;
  queue: DeliveryQueue;
  connect: Connect;
  logger: Logger;
  settings: Settings;
  /** Opens a table named in a map list (smtp_sasl_password_maps, sender_dependent_relayhost_maps). */
  openTable: (spec: string) => LookupTable;
  now?: () => number;
  /** Test hook: shorter SMTP timeouts. */
  timeouts?: RelayOptions["timeouts"];
  /** Delivery events (message.sent/deferred/bounced) for the account's webhook endpoints. */
  events?:
    | { delivered(message: QueuedMessage, relay: string, outcomes: Outcome[]): Promise<void> }
    | undefined;
  /** OAuth2 credentials and smtp_sasl_auth_cache_name storage; absent: neither is available. */
  relayAuth?: RelayAuthPorts;
}

/** A worker holds a message this long; a crash lets another take it after that. */
export const LEASE_MS = 10 * 60_000;
/** A message woken a little early (clock skew between the queue and D1) is still delivered. */
const EARLY_SLACK_MS = 5_000;

interface Claimed {
  /** Recorded (or being recorded): nothing more happens to it in this run. */
  finished: boolean;
  message: QueuedMessage;
  recipients: PendingRecipient[];
  route: string;
  /** Final outcome per recipient position, filled hop by hop. */
  outcomes: Map<number, Outcome>;
  relay: string;
  protocol: NextHop["protocol"];
}

export async function deliverMessages(ids: string[], deps: DeliveryDeps): Promise<void> {
  const now = deps.now ?? Date.now;
  const relayhost = deps.settings.get("relayhost");
  const routeTables = parseMapList(deps.settings.get("sender_dependent_relayhost_maps")).map(deps.openTable);
  const routes = new Map<string, Claimed[]>();
  const recorder = recorderFor(deps.store);
  const run: Run = { deps, recorder };
  const due: QueuedMessage[] = [];
  for (const message of await deps.store.claimMany([...new Set(ids)], now(), LEASE_MS)) {
    if (message.nextAttemptAt !== null && message.nextAttemptAt > now() + EARLY_SLACK_MS) {
      await deps.store.releaseLease(message.id);
    } else {
      due.push(message);
    }
  }
  const pending = new Map<string, PendingRecipient[]>();
  for (const row of await deps.store.pendingRecipientsOf(due.map((m) => m.id))) {
    const list = pending.get(row.messageId) ?? [];
    list.push(row);
    pending.set(row.messageId, list);
  }
  for (const message of due) {
    const recipients = (pending.get(message.id) ?? []).sort((a, b) => a.position - b.position);
    let route = relayhost;
    try {
      route = await routeFor(message.mailFrom, relayhost, routeTables);
    } catch (error) {
      const reason = `sender_dependent_relayhost_maps lookup error: ${describe(error)}`;
      const claimed = newClaimed(message, recipients, "");
      await finish(claimed, allWith(recipients, "deferred", reason, "4.3.0"), run);
      continue;
    }
    const claimed = newClaimed(message, recipients, route);
    const group = routes.get(route) ?? [];
    group.push(claimed);
    routes.set(route, group);
  }
  for (const [route, group] of routes) await deliverRoute(route, group, run);
}

interface Run {
  deps: DeliveryDeps;
  recorder: AttemptRecorder;
}

function newClaimed(message: QueuedMessage, recipients: PendingRecipient[], route: string): Claimed {
  return {
    finished: false,
    message,
    recipients,
    route,
    outcomes: new Map(),
    relay: "none",
    protocol: "smtp",
  };
}

/**
 * Group commit: attempts that end within a few milliseconds of each other, in this run or in
 * another run over the same store (the Node poller runs several), are written in one commit, so
 * parallel sessions do not each wait for a commit (and its fsync) per message.
 */
const COALESCE_MS = 10;

const recorders = new WeakMap<DeliveryStore, AttemptRecorder>();

function recorderFor(store: DeliveryStore): AttemptRecorder {
  let recorder = recorders.get(store);
  if (!recorder) {
    recorder = new AttemptRecorder(store);
    recorders.set(store, recorder);
  }
  return recorder;
}

class AttemptRecorder {
  readonly #store: DeliveryStore;
  #waiting: { input: AttemptInput; done: (error?: unknown) => void }[] = [];
  #writing = false;

  constructor(store: DeliveryStore) {
    this.#store = store;
  }

  record(input: AttemptInput): Promise<void> {
    const recorded = new Promise<void>((resolve, reject) => {
      this.#waiting.push({ input, done: (error) => (error === undefined ? resolve() : reject(error)) });
    });
    if (!this.#writing) {
      this.#writing = true;
      // A moment for the other sessions' attempts to join this commit (SQLite on Node commits on
      // the main thread, so without it nothing could ever join).
      setTimeout(() => void this.#drain(), COALESCE_MS);
    }
    return recorded;
  }

  async #drain(): Promise<void> {
    while (this.#waiting.length > 0) {
      const batch = this.#waiting.splice(0);
      try {
        await this.#store.recordAttempts(batch.map((w) => w.input));
        for (const w of batch) w.done();
      } catch (error) {
        for (const w of batch) w.done(error ?? new Error("recording the attempt failed"));
      }
    }
    this.#writing = false;
  }
}

const stillDeferred = (c: Claimed) =>
  c.recipients.filter((r) => {
    const outcome = c.outcomes.get(r.position);
    return outcome === undefined || outcome.status === "deferred";
  });

/**
 * Every next hop of the route in order; recipients left deferred at one hop try the next. A message
 * is recorded as soon as it is settled (nothing deferred, or the last hop answered), while the
 * sessions go on: a crash then repeats at most the few messages whose records were in flight.
 */
async function deliverRoute(route: string, group: Claimed[], run: Run): Promise<void> {
  const parsed = parseNextHops(route);
  if (!parsed.ok) {
    for (const c of group) await finish(c, allWith(c.recipients, "deferred", parsed.reason, "4.3.5"), run);
    return;
  }
  const failures: unknown[] = [];
  const records: Promise<void>[] = [];
  const settle = (c: Claimed) => {
    if (c.finished) return;
    c.finished = true;
    const outcomes = c.recipients.map(
      (r) =>
        c.outcomes.get(r.position) ?? {
          position: r.position,
          recipient: r.address,
          status: "deferred" as const,
          reply: "no next hop took this recipient",
          dsn: "4.3.0",
        },
    );
    records.push(finish(c, outcomes, run).catch((error: unknown) => void failures.push(error)));
  };
  const { hops } = parsed;
  for (const [index, hop] of hops.entries()) {
    const final = index === hops.length - 1;
    const todo: HopMessage[] = [];
    for (const c of group) {
      const pending = stillDeferred(c);
      if (pending.length === 0) settle(c);
      else todo.push({ message: c.message, recipients: pending, owner: c });
    }
    if (todo.length === 0) break;
    await deliverOverHop(hop, todo, {
      ...run.deps,
      slots: sessionSlotsFor(run.deps.store),
      final,
      onResult: ({ item, outcomes }) => {
        const c = item.owner as Claimed;
        c.relay = relayLabel(hop);
        c.protocol = hop.protocol;
        for (const o of outcomes) c.outcomes.set(o.position, o);
        if (final || stillDeferred(c).length === 0) settle(c);
      },
    });
  }
  for (const c of group) settle(c);
  await Promise.all(records);
  if (failures.length > 0) throw failures[0];
}

function allWith(
  recipients: PendingRecipient[],
  status: Outcome["status"],
  reason: string,
  dsn: string,
): Outcome[] {
  return recipients.map((r) => ({ position: r.position, recipient: r.address, status, reply: reason, dsn }));
}

/**
 * Applies the queue lifetime, tells the sender about what bounced, records the attempt and schedules
 * the next one. The notification is queued before the attempt is recorded: a crash in between
 * sends it twice rather than never.
 */
async function finish(c: Claimed, raw: Outcome[], run: Run): Promise<void> {
  const { deps } = run;
  const now = (deps.now ?? Date.now)();
  const policy = backoffPolicy(deps.settings);
  const expired = hasExpired(policy, c.message.createdAt, now);
  const outcomes = raw.map((o) =>
    o.status === "deferred" && expired
      ? { ...o, status: "bounced" as const, reply: `message expired in the queue; last error: ${o.reply}` }
      : o,
  );
  // NOTIFY=NEVER, or a NOTIFY without FAILURE, asks for no report (RFC 3461 §4.1).
  const wantsReport = new Map(
    c.recipients.map((r) => [r.position, r.dsnNotify == null || /\bFAILURE\b/.test(r.dsnNotify)]),
  );
  const bounced = outcomes.filter((o) => o.status === "bounced" && wantsReport.get(o.position) !== false);
  if (bounced.length > 0 && c.message.mailFrom !== "") await notifySender(c, bounced, now, deps);
  const deferred = outcomes.some((o) => o.status === "deferred");
  const delay = backoffDelay(policy, c.message.attempts + 1);
  const nextAttemptAt = deferred ? now + delay : null;
  await run.recorder.record({ id: c.message.id, relay: c.relay, outcomes, now, nextAttemptAt });
  const seconds = ((now - c.message.createdAt) / 1000).toFixed(1);
  for (const o of outcomes) {
    deps.logger.info(
      `${c.message.id}: to=<${o.recipient}>, relay=${c.relay}, delay=${seconds}, status=${o.status} (${o.reply})`,
    );
  }
  if (deferred) await deps.queue.enqueue([c.message.id], delay);
  await deps.events?.delivered(c.message, c.relay, outcomes);
}

async function notifySender(c: Claimed, bounced: Outcome[], now: number, deps: DeliveryDeps) {
  const { message } = c;
  const stream = message.bodyKey ? await deps.bodies.get(message.bodyKey) : null;
  const original = stream ? await readAll(stream) : new Uint8Array();
  const remoteMta = c.relay === "none" ? null : c.relay.slice(0, c.relay.indexOf("["));
  await queueBounceNotice(
    {
      id: message.id,
      accountId: message.accountId ?? null,
      mailFrom: message.mailFrom,
      createdAt: message.createdAt,
      eightBit: message.eightBit,
      smtputf8: message.smtputf8,
      original,
      ret: message.dsnRet ?? null,
      envid: message.dsnEnvid ?? null,
    },
    bounced.map((o) => {
      const remoteReply = remoteReplyOf(o.reply.replace(/^message expired in the queue; last error: /, ""));
      const orcpt = c.recipients.find((r) => r.position === o.position)?.dsnOrcpt ?? null;
      return {
        recipient: o.recipient,
        originalRecipient: orcpt,
        status: o.dsn ?? "5.0.0",
        reason: o.reply,
        remoteReply,
        remoteMta: remoteReply ? remoteMta : null,
        protocol: c.protocol,
      };
    }),
    { hostname: deps.settings.get("myhostname"), returnLimit: deps.settings.int("bounce_size_limit"), now },
    deps,
  );
}

function backoffPolicy(settings: Settings): BackoffPolicy {
  return {
    minimalMs: settings.duration("minimal_backoff_time"),
    maximalMs: settings.duration("maximal_backoff_time"),
    queueLifetimeMs: settings.duration("maximal_queue_lifetime"),
  };
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
