// Accepting a message is the commit point of Postern: the body is stored, the envelope and
// recipients are written in one batch, and the delivery job is queued, in that order. Only then is
// the submitter told 2xx. When a step fails, what was written is removed and the submitter gets a
// temporary error; a row that cannot be removed is still a complete message that the sweeper
// delivers, so nothing half-written is ever left.
import type { BodyStore, DeliveryQueue, Logger } from "../ports.ts";

export type AcceptedState = "queued" | "held" | "discarded";

export interface AcceptRecord {
  id: string;
  accountId: string | null;
  saslUsername: string | null;
  saslMethod: string | null;
  clientAddress: string;
  mailFrom: string;
  recipients: string[];
  bytes: Uint8Array;
  headerMessageId: string | null;
  eightBit: boolean;
  smtputf8: boolean;
  state: AcceptedState;
  /** The access table's text for HOLD/DISCARD. */
  stateReason: string | null;
  /** DSN parameters (RFC 3461) given at submission: carried to the relay and into reports. */
  dsn?: AcceptDsn;
}

export interface AcceptDsn {
  ret: "FULL" | "HDRS" | null;
  envid: string | null;
  /** Per recipient, in order: NOTIFY ("NEVER" or a comma list) and ORCPT. */
  recipients: { notify: string | null; orcpt: string | null }[];
}

export interface AcceptStore {
  insert(message: {
    id: string;
    accountId: string | null;
    saslUsername: string | null;
    saslMethod: string | null;
    clientAddress: string;
    mailFrom: string;
    bodyKey: string | null;
    size: number;
    headerMessageId: string | null;
    eightBit: boolean;
    smtputf8: boolean;
    state: AcceptedState;
    stateReason: string | null;
    recipients: string[];
    recipientStatus: AcceptedState;
    now: number;
    dsn?: AcceptDsn;
  }): Promise<void>;
  delete(id: string): Promise<unknown>;
}

export interface AcceptDeps {
  store: AcceptStore;
  bodies: BodyStore;
  queue: DeliveryQueue;
  logger: Logger;
  now?: () => number;
  /** Delivery events (message.accepted, message.held) for the account's webhook endpoints. */
  events?: { accepted(record: StoredRecord): Promise<void> } | undefined;
}

export class AcceptError extends Error {
  readonly code = "ERR_ACCEPT_STORAGE";
  readonly transient = true;
}

export function bodyKeyFor(id: string): string {
  return `bodies/${id}`;
}

export async function acceptMessage(record: AcceptRecord, deps: AcceptDeps): Promise<void> {
  // A discarded message claims success but keeps only its envelope, as a record of the discard.
  const bodyKey = record.state === "discarded" ? null : bodyKeyFor(record.id);
  try {
    if (bodyKey) await deps.bodies.put(bodyKey, record.bytes);
  } catch (error) {
    throw new AcceptError(`storing the message body failed: ${describe(error)}`);
  }
  const { bytes, ...rest } = record;
  await acceptStoredMessage({ ...rest, size: bytes.byteLength, bodyKey }, deps);
}

/** A message whose body is already durable under `bodyKey` (streamed there): record and queue it. */
export type StoredRecord = Omit<AcceptRecord, "bytes"> & { size: number; bodyKey: string | null };

/**
 * The rest of acceptMessage, for a body stored beforehand (SMTP streams it to disk as it arrives).
 * On failure the body is deleted too, so nothing half-accepted is left.
 */
export async function acceptStoredMessage(record: StoredRecord, deps: AcceptDeps): Promise<void> {
  const now = (deps.now ?? Date.now)();
  const { bodyKey } = record;
  try {
    await deps.store.insert({
      id: record.id,
      accountId: record.accountId,
      saslUsername: record.saslUsername,
      saslMethod: record.saslMethod,
      clientAddress: record.clientAddress,
      mailFrom: record.mailFrom,
      bodyKey,
      size: record.size,
      headerMessageId: record.headerMessageId,
      eightBit: record.eightBit,
      smtputf8: record.smtputf8,
      state: record.state,
      stateReason: record.stateReason,
      recipients: record.recipients,
      recipientStatus: record.state,
      now,
      ...(record.dsn ? { dsn: record.dsn } : {}),
    });
  } catch (error) {
    if (bodyKey) await deps.bodies.delete(bodyKey).catch(() => {});
    throw new AcceptError(`storing the envelope failed: ${describe(error)}`);
  }
  if (record.state === "queued") {
    try {
      await deps.queue.enqueue([record.id]);
    } catch (error) {
      await rollBack(record.id, bodyKey, deps);
      throw new AcceptError(`queueing the message failed: ${describe(error)}`);
    }
  }
  await deps.events?.accepted(record);
}

async function rollBack(id: string, bodyKey: string | null, deps: AcceptDeps): Promise<void> {
  try {
    await deps.store.delete(id);
  } catch (error) {
    // The rows are complete: the sweeper will queue and deliver the message.
    deps.logger.warn(
      `${id}: could not withdraw after a queue failure (${describe(error)}); the sweeper will deliver it`,
    );
    return;
  }
  if (bodyKey) await deps.bodies.delete(bodyKey).catch(() => {});
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
