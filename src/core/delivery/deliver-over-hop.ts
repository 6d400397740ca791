// One next hop of a route: the messages that share a credential for it ride the same sessions
// (MAIL/RCPT/DATA after MAIL/RCPT/DATA, RSET between), spread over a few sessions in parallel that
// pull from one work list; smtp_destination_concurrency_limit caps the sessions to the hop across
// all runs.
import { ConfigError, type Settings } from "../config/settings.ts";
import type { LookupTable } from "../maps/lookup-table.ts";
import { parseMapList } from "../maps/parse-map-list.ts";
import type { Connect } from "../net/socket.ts";
import type { BodyStore, Logger } from "../ports.ts";
import { openRelaySession, type RelayOptions, type RelaySession } from "../smtp/client/index.ts";
import type { Outcome, PendingRecipient, QueuedMessage } from "./deliver.ts";
import { type NextHop, relayLabel } from "./next-hop.ts";
import { afterAuthRejected, prepareRelayAuth, type RelayAuthPorts } from "./relay-auth.ts";
import { findRelayCredentials, passwordMapKeys, type RelayCredentials } from "./relay-credentials.ts";
import { clientParameter, relayAuthPolicy, relaySecurity } from "./relay-security.ts";
import type { SessionSlots } from "./session-slots.ts";

/**
 * Another session opens only for this many more messages: with pipelining one session moves a
 * small batch faster than several handshakes would (and a batch of a few stays on one session).
 */
const MESSAGES_PER_SESSION = 10;
/** Sessions one run opens at most: Workers allow 6 connections per invocation, R2 and D1 included. */
const SESSIONS_PER_RUN = 4;

export interface HopMessage {
  message: QueuedMessage;
  recipients: PendingRecipient[];
  /** The caller's handle, returned with the outcomes. */
  owner: unknown;
}

export interface HopDeps {
  /** smtp_destination_concurrency_limit, shared with the other runs over the same store. */
  slots: SessionSlots;
  bodies: BodyStore;
  connect: Connect;
  logger: Logger;
  settings: Settings;
  openTable: (spec: string) => LookupTable;
  timeouts?: RelayOptions["timeouts"];
  /** The last hop of the route: what fails here stays failed (a 5xx greeting bounces). */
  final: boolean;
  /** Each message's outcomes as soon as they are known. */
  onResult?: (result: HopResult) => void;
  /** OAuth2 credentials and smtp_sasl_auth_cache_name storage; absent: neither is available. */
  relayAuth?: RelayAuthPorts;
  now?: () => number;
}

export interface HopResult {
  item: HopMessage;
  outcomes: Outcome[];
}

/**
 * The Postfix client parameters of this hop: an LMTP hop reads the lmtp_* twins (clientParameter);
 * only the greeting command's name differs (LHLO, not HELO).
 */
function parameterNames(hop: NextHop) {
  const kind = { lmtp: hop.protocol === "lmtp" };
  return {
    kind,
    authEnable: clientParameter(kind, "sasl_auth_enable"),
    passwordMaps: clientParameter(kind, "sasl_password_maps"),
    heloName: kind.lmtp ? "lmtp_lhlo_name" : "smtp_helo_name",
    connectTimeout: clientParameter(kind, "connect_timeout"),
    heloTimeout: kind.lmtp ? "lmtp_lhlo_timeout" : "smtp_helo_timeout",
    dataDoneTimeout: clientParameter(kind, "data_done_timeout"),
  } as const;
}

export async function deliverOverHop(hop: NextHop, items: HopMessage[], deps: HopDeps): Promise<HopResult[]> {
  const names = parameterNames(hop);
  const results: HopResult[] = [];
  const groups = new Map<string, { credentials: RelayCredentials | null; items: HopMessage[] }>();
  // Messages whose lookup keys are the same (all of them unless sender-dependent) share one lookup.
  const lookups = new Map<string, Promise<RelayCredentials | null>>();
  for (const item of items) {
    let credentials: RelayCredentials | null;
    try {
      credentials = await credentialsFor(item.message, hop, names, deps, lookups);
    } catch (error) {
      const reason = `${names.passwordMaps} lookup error: ${error instanceof Error ? error.message : String(error)}`;
      emit(results, { item, outcomes: allWith(item, "deferred", reason, "4.3.0") }, deps);
      continue;
    }
    const key = credentials ? `${credentials.username}\0${credentials.password}` : "";
    const group = groups.get(key) ?? { credentials, items: [] };
    group.items.push(item);
    groups.set(key, group);
  }
  for (const group of groups.values()) {
    results.push(...(await deliverGroup(hop, group.credentials, group.items, names, deps)));
  }
  return results;
}

async function credentialsFor(
  message: QueuedMessage,
  hop: NextHop,
  names: ReturnType<typeof parameterNames>,
  deps: HopDeps,
  lookups: Map<string, Promise<RelayCredentials | null>>,
): Promise<RelayCredentials | null> {
  if (!deps.settings.bool(names.authEnable)) return null;
  const keys = passwordMapKeys(
    hop,
    message.mailFrom,
    // Sender-dependent keys are SMTP only (smtp_sasl_glue.c: smtp_mode); LMTP ignores them.
    deps.settings.bool("smtp_sender_dependent_authentication"),
  );
  const lookupKey = keys.join("\0");
  let found = lookups.get(lookupKey);
  if (!found) {
    found = (async () => {
      const tables = parseMapList(deps.settings.get(names.passwordMaps)).map(deps.openTable);
      const delimiter = deps.settings.get(clientParameter(names.kind, "sasl_password_result_delimiter"));
      return findRelayCredentials(tables, keys, delimiter);
    })();
    lookups.set(lookupKey, found);
  }
  return found;
}

/** Throws ConfigError for a bad smtp_tls_* / smtp_sasl_* value (see relay-security.ts). */
function relayOptions(
  hop: NextHop,
  auth: RelayOptions["auth"],
  names: ReturnType<typeof parameterNames>,
  deps: HopDeps,
): RelayOptions {
  const settings = deps.settings;
  return {
    host: hop.host,
    port: hop.port,
    protocol: hop.protocol,
    ...(hop.unix ? { path: hop.host } : {}),
    heloName: settings.get(names.heloName),
    ...relaySecurity(settings, { ...names.kind, unix: hop.unix === true }),
    auth,
    timeouts: deps.timeouts ?? {
      connect: settings.duration(names.connectTimeout),
      greeting: settings.duration(names.heloTimeout),
      command: settings.duration(names.heloTimeout),
      data: settings.duration(names.dataDoneTimeout),
    },
  };
}

async function deliverGroup(
  hop: NextHop,
  credentials: RelayCredentials | null,
  items: HopMessage[],
  names: ReturnType<typeof parameterNames>,
  deps: HopDeps,
): Promise<HopResult[]> {
  const results: HopResult[] = [];
  const failAll = (status: Outcome["status"], reason: string, dsn: string) => {
    for (const item of items) emit(results, { item, outcomes: allWith(item, status, reason, dsn) }, deps);
    return results;
  };
  const now = deps.now ?? Date.now;
  const server = relayLabel(hop);
  const ports = deps.relayAuth ?? {};
  let options: RelayOptions;
  let authPolicy: ReturnType<typeof relayAuthPolicy>;
  try {
    authPolicy = relayAuthPolicy(deps.settings, names.kind);
    options = relayOptions(hop, null, names, deps);
  } catch (error) {
    if (error instanceof ConfigError) return failAll("deferred", error.message, "4.3.5");
    throw error;
  }
  // A password as it is, an OAuth2 access token fetched, or a refusal remembered from before.
  const prepared = await prepareRelayAuth(credentials, server, authPolicy, ports, now());
  if (!prepared.ok) {
    return failAll(prepared.status, prepared.reason, prepared.status === "bounced" ? "5.7.8" : "4.7.0");
  }
  options = { ...options, auth: prepared.auth };
  let rejectionHandled = false;
  const limit = Math.max(1, deps.settings.int("smtp_destination_concurrency_limit"));
  const destination = `${hop.protocol}:${relayLabel(hop)}`;
  let next = 0;
  let lastFailure: { status: Outcome["status"]; reason: string } | null = null;

  // A session that dies (421, a dropped connection) took at most the message it was sending; the
  // worker opens a new one for the rest, and stops when a session cannot be had.
  const worker = async () => {
    const release = await deps.slots.acquire(destination, limit);
    try {
      while (next < items.length) {
        const opened = await openRelaySession(deps.connect, options);
        if (!opened.ok) {
          lastFailure = opened.outcome;
          if (opened.outcome.authRejected && credentials && !rejectionHandled) {
            rejectionHandled = true;
            await afterAuthRejected(
              credentials,
              prepared,
              server,
              opened.outcome.reason,
              authPolicy,
              ports,
              now(),
            );
          }
          return;
        }
        const session = opened.session;
        try {
          while (session.alive && next < items.length) {
            const item = items[next++]!;
            emit(results, { item, outcomes: await sendOne(session, item, deps) }, deps);
          }
        } finally {
          await session.close().catch(() => {});
        }
      }
    } finally {
      release();
    }
  };
  const sessions = Math.min(SESSIONS_PER_RUN, limit, Math.ceil(items.length / MESSAGES_PER_SESSION));
  await Promise.all(Array.from({ length: sessions }, worker));

  // What no session took: every session failed to open (or died before reaching it).
  for (; next < items.length; next++) {
    const item = items[next]!;
    const failure: { status: Outcome["status"]; reason: string } = lastFailure ?? {
      status: "deferred",
      reason: `no session with ${hop.host} could be had`,
    };
    // Not the last hop: even a permanent refusal (5xx greeting) moves on (smtp_skip_5xx_greeting).
    const status = deps.final ? failure.status : "deferred";
    emit(
      results,
      {
        item,
        outcomes: allWith(item, status, failure.reason, status === "bounced" ? "5.0.0" : "4.0.0"),
      },
      deps,
    );
  }
  return results;
}

async function sendOne(session: RelaySession, item: HopMessage, deps: HopDeps): Promise<Outcome[]> {
  const { message, recipients } = item;
  if (recipients.length === 0) return [];
  const body = message.bodyKey ? await deps.bodies.get(message.bodyKey) : null;
  if (!body) return allWith(item, "deferred", "message body is missing from storage", "4.3.0");
  const results = await session.send({
    mailFrom: message.mailFrom,
    recipients: recipients.map((r) => r.address),
    size: message.size,
    body: async () => body,
    smtputf8: message.smtputf8,
    eightBit: message.eightBit,
    dsn: {
      ret: message.dsnRet ?? null,
      envid: message.dsnEnvid ?? null,
      recipients: recipients.map((r) => ({ notify: r.dsnNotify ?? null, orcpt: r.dsnOrcpt ?? null })),
    },
  });
  return recipients.map((r, i) => {
    const result = results[i];
    return {
      position: r.position,
      recipient: r.address,
      status: result?.status ?? "deferred",
      reply: result?.reply ?? "no reply for this recipient",
      ...(result?.dsn ? { dsn: result.dsn } : {}),
    };
  });
}

function emit(results: HopResult[], result: HopResult, deps: HopDeps): void {
  results.push(result);
  deps.onResult?.(result);
}

function allWith(item: HopMessage, status: Outcome["status"], reason: string, dsn: string): Outcome[] {
  return item.recipients.map((r) => ({
    position: r.position,
    recipient: r.address,
    status,
    reply: reason,
    dsn,
  }));
}
