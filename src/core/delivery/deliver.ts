// The delivery agent: claims queued messages, relays them to the next hop (one SMTP session per
// route and credential for the whole batch), records each recipient's outcome and schedules the
// retry. Shared by the Workers queue consumer and the Node poller.
import type { Settings } from "../config/settings.ts";
import type { LookupTable } from "../maps/lookup-table.ts";
import type { Connect } from "../net/socket.ts";
import type { BodyStore, DeliveryQueue, Logger } from "../ports.ts";
import { openRelaySession, type RelayOptions, type RelaySession } from "../smtp/client/index.ts";
import { type BackoffPolicy, backoffDelay, hasExpired } from "./backoff.ts";
import { type NextHop, parseNextHop } from "./next-hop.ts";
import { findRelayCredentials, passwordMapKeys, type RelayCredentials } from "./relay-credentials.ts";

export interface QueuedMessage {
  id: string;
  mailFrom: string;
  bodyKey: string | null;
  size: number;
  eightBit: boolean;
  smtputf8: boolean;
  attempts: number;
  nextAttemptAt: number | null;
  createdAt: number;
}

export interface PendingRecipient {
  position: number;
  address: string;
}

export interface Outcome {
  position: number;
  recipient: string;
  status: "sent" | "deferred" | "bounced";
  reply: string;
}

export interface DeliveryStore {
  claim(id: string, now: number, leaseMs: number): Promise<QueuedMessage | null>;
  pendingRecipients(id: string): Promise<PendingRecipient[]>;
  releaseLease(id: string): Promise<void>;
  recordAttempt(input: {
    id: string;
    relay: string;
    outcomes: Outcome[];
    now: number;
    nextAttemptAt: number | null;
  }): Promise<void>;
}

export interface DeliveryDeps {
  store: DeliveryStore;
  bodies: BodyStore;
  queue: DeliveryQueue;
  connect: Connect;
  logger: Logger;
  settings: Settings;
  /** Opens the tables named by smtp_sasl_password_maps. */
  passwordTables: () => LookupTable[];
  now?: () => number;
  /** Test hook: shorter SMTP timeouts. */
  timeouts?: RelayOptions["timeouts"];
}

/** A worker holds a message this long; a crash lets another take it after that. */
export const LEASE_MS = 10 * 60_000;
/** A message woken a little early (clock skew between the queue and D1) is still delivered. */
const EARLY_SLACK_MS = 5_000;

interface Claimed {
  message: QueuedMessage;
  recipients: PendingRecipient[];
  credentials: RelayCredentials | null;
}

export async function deliverMessages(ids: string[], deps: DeliveryDeps): Promise<void> {
  const now = deps.now ?? Date.now;
  const claimed: Claimed[] = [];
  const hop = parseNextHop(deps.settings.get("relayhost"));
  for (const id of new Set(ids)) {
    const message = await deps.store.claim(id, now(), LEASE_MS);
    if (!message) continue;
    if (message.nextAttemptAt !== null && message.nextAttemptAt > now() + EARLY_SLACK_MS) {
      await deps.store.releaseLease(id);
      continue;
    }
    const recipients = await deps.store.pendingRecipients(id);
    const credentials = hop.ok ? await credentialsFor(message, hop.hop, deps) : null;
    claimed.push({ message, recipients, credentials });
  }
  if (claimed.length === 0) return;

  if (!hop.ok) {
    for (const c of claimed) await finish(c, "none", allWith(c, "deferred", hop.reason), deps);
    return;
  }
  for (const group of groupByCredentials(claimed)) {
    await deliverGroup(hop.hop, group, deps);
  }
}

async function credentialsFor(message: QueuedMessage, hop: NextHop, deps: DeliveryDeps) {
  if (!deps.settings.bool("smtp_sasl_auth_enable")) return null;
  const keys = passwordMapKeys(
    hop,
    message.mailFrom,
    deps.settings.bool("smtp_sender_dependent_authentication"),
  );
  return findRelayCredentials(
    deps.passwordTables(),
    keys,
    deps.settings.get("smtp_sasl_password_result_delimiter"),
  );
}

function groupByCredentials(claimed: Claimed[]): Claimed[][] {
  const groups = new Map<string, Claimed[]>();
  for (const c of claimed) {
    const key = c.credentials ? `${c.credentials.username}\0${c.credentials.password}` : "";
    const group = groups.get(key) ?? [];
    group.push(c);
    groups.set(key, group);
  }
  return [...groups.values()];
}

async function deliverGroup(hop: NextHop, group: Claimed[], deps: DeliveryDeps): Promise<void> {
  const relay = `${hop.host}[${hop.host}]:${hop.port}`;
  const settings = deps.settings;
  const credentials = group[0]!.credentials;
  const level = settings.get("smtp_tls_security_level");
  const wrapperMode = settings.bool("smtp_tls_wrappermode");
  const options: RelayOptions = {
    host: hop.host,
    port: hop.port,
    heloName: settings.get("smtp_helo_name"),
    tlsLevel: wrapperMode ? "encrypt" : level === "encrypt" || level === "none" ? level : "may",
    wrapperMode,
    auth: credentials ? { username: credentials.username, password: credentials.password } : null,
    plaintextAuthWithoutTls: !/\bnoplaintext\b/.test(settings.get("smtp_sasl_security_options")),
    authSoftBounce: settings.bool("smtp_sasl_auth_soft_bounce"),
    timeouts: deps.timeouts ?? {
      connect: settings.duration("smtp_connect_timeout"),
      greeting: settings.duration("smtp_helo_timeout"),
      command: settings.duration("smtp_helo_timeout"),
      data: settings.duration("smtp_data_done_timeout"),
    },
  };
  const opened = await openRelaySession(deps.connect, options);
  if (!opened.ok) {
    for (const c of group)
      await finish(c, relay, allWith(c, opened.outcome.status, opened.outcome.reason), deps);
    return;
  }
  const session = opened.session;
  try {
    for (const c of group) {
      const outcomes = await sendOne(session, c, deps);
      await finish(c, relay, outcomes, deps);
    }
  } finally {
    await session.close().catch(() => {});
  }
}

async function sendOne(session: RelaySession, c: Claimed, deps: DeliveryDeps): Promise<Outcome[]> {
  const { message } = c;
  if (c.recipients.length === 0) return [];
  const bodyKey = message.bodyKey;
  const body = bodyKey ? await deps.bodies.get(bodyKey) : null;
  if (!body) return allWith(c, "deferred", "message body is missing from storage");
  const results = await session.send({
    mailFrom: message.mailFrom,
    recipients: c.recipients.map((r) => r.address),
    size: message.size,
    body: async () => body,
    smtputf8: message.smtputf8,
    eightBit: message.eightBit,
  });
  return c.recipients.map((r, i) => {
    const result = results[i];
    return {
      position: r.position,
      recipient: r.address,
      status: result?.status ?? "deferred",
      reply: result?.reply ?? "no reply for this recipient",
    };
  });
}

function allWith(c: Claimed, status: Outcome["status"], reason: string): Outcome[] {
  return c.recipients.map((r) => ({ position: r.position, recipient: r.address, status, reply: reason }));
}

/** Applies the queue lifetime, records the attempt and schedules the next one. */
async function finish(c: Claimed, relay: string, raw: Outcome[], deps: DeliveryDeps): Promise<void> {
  const now = (deps.now ?? Date.now)();
  const policy = backoffPolicy(deps.settings);
  const expired = hasExpired(policy, c.message.createdAt, now);
  const outcomes = raw.map((o) =>
    o.status === "deferred" && expired
      ? { ...o, status: "bounced" as const, reply: `message expired in the queue; last error: ${o.reply}` }
      : o,
  );
  const deferred = outcomes.some((o) => o.status === "deferred");
  const delay = backoffDelay(policy, c.message.attempts + 1);
  const nextAttemptAt = deferred ? now + delay : null;
  await deps.store.recordAttempt({ id: c.message.id, relay, outcomes, now, nextAttemptAt });
  const seconds = ((now - c.message.createdAt) / 1000).toFixed(1);
  for (const o of outcomes) {
    deps.logger.info(
      `${c.message.id}: to=<${o.recipient}>, relay=${relay}, delay=${seconds}, status=${o.status} (${o.reply})`,
    );
  }
  if (deferred) await deps.queue.enqueue([c.message.id], delay);
}

function backoffPolicy(settings: Settings): BackoffPolicy {
  return {
    minimalMs: settings.duration("minimal_backoff_time"),
    maximalMs: settings.duration("maximal_backoff_time"),
    queueLifetimeMs: settings.duration("maximal_queue_lifetime"),
  };
}
