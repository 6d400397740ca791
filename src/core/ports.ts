// The narrow interfaces the core depends on. src/db and the runtimes (src/worker, src/node)
// implement them; nothing in src/core knows about drizzle, R2 or Queues.
import type { ScramRecord } from "./auth/scram-record.ts";
import type { LookupTable } from "./maps/lookup-table.ts";

export interface Logger {
  info(line: string): void;
  warn(line: string): void;
  error(line: string): void;
}

export interface Account {
  id: string;
  login: string;
  disabled: boolean;
  /** Changes with every credential change: part of the verification cache key. */
  updatedAt: number;
  /** SCRAM-SHA-256 keys (the record PLAIN, LOGIN and Basic are verified against). */
  scram: ScramRecord;
  /** SCRAM-SHA-1 keys, same salt and iterations; null for records made before SHA-1 support. */
  scram1: { storedKey: string; serverKey: string } | null;
  /** Sealed plaintext-equivalent secret for CRAM-MD5/DIGEST-MD5; null unless opted in. */
  sealedSharedSecret: string | null;
}

export interface AccountStore {
  findByLogin(login: string): Promise<Account | null>;
}

/** Message bodies: R2 on Workers, files on Node. Keys are opaque. */
export interface BodyStore {
  put(key: string, bytes: Uint8Array): Promise<void>;
  get(key: string): Promise<ReadableStream<Uint8Array> | null>;
  delete(key: string): Promise<void>;
}

/** Wakes the delivery worker for these messages, now or after a delay. */
export interface DeliveryQueue {
  enqueue(messageIds: string[], delayMs?: number): Promise<void>;
}

/** Opens the lookup table named by a map spec (`d1:sender_login`, `inline:{...}`, `static:x`). */
export type TableOpener = (spec: string) => LookupTable;
