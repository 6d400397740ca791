// The Node runtime's database: a local SQLite file through libsql, under the same drizzle schema,
// stores and migrations/ folder as D1. libsql's drizzle driver has D1's shape (async queries, an
// atomic batch()), so src/db runs unchanged on it.
import { mkdirSync } from "node:fs";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { type Client, createClient } from "@libsql/client";
import { drizzle } from "drizzle-orm/libsql";
import { migrate } from "drizzle-orm/libsql/migrator";
import type { Database } from "../db/database.ts";
import * as schema from "../db/schema.ts";

/** The drizzle-kit output wrangler applies to D1; drizzle's migrator reads the same journal. */
export const MIGRATIONS_FOLDER = fileURLToPath(new URL("../../migrations", import.meta.url));

const DEFAULT_BUSY_TIMEOUT_MS = 5_000;

export interface SqliteDatabase {
  db: Database;
  client: Client;
  file: string;
  close(): void;
}

export interface SqliteOptions {
  /** How long a statement waits for another connection's lock (an admin's sqlite3 shell). */
  busyTimeoutMs?: number;
}

export async function openSqliteDatabase(file: string, options: SqliteOptions = {}): Promise<SqliteDatabase> {
  const absolute = path.resolve(file);
  mkdirSync(path.dirname(absolute), { recursive: true });
  // One connection: the PRAGMAs below hold per connection, and libsql's pool would open more
  // without them. Node is single-threaded and each statement runs synchronously, so nothing waits long.
  const client = createClient({ url: pathToFileURL(absolute).href, concurrency: 1 });
  try {
    const busy = Math.max(0, Math.trunc(options.busyTimeoutMs ?? DEFAULT_BUSY_TIMEOUT_MS));
    // WAL: readers do not block the writer. synchronous=FULL: a commit is on disk before it
    // returns, so a 202 outlives a power cut, not just a crash. D1 enforces foreign keys; so do we.
    await client.execute("PRAGMA journal_mode = WAL");
    await client.execute("PRAGMA synchronous = FULL");
    await client.execute("PRAGMA foreign_keys = ON");
    await client.execute(`PRAGMA busy_timeout = ${busy}`);
  } catch (error) {
    client.close();
    throw error;
  }
  return { db: drizzle(client, { schema }), client, file: absolute, close: () => client.close() };
}

/** Applies the migrations not yet recorded in the file (drizzle's `__drizzle_migrations` table). */
export async function applyMigrations(database: SqliteDatabase, migrationsFolder = MIGRATIONS_FOLDER) {
  await migrate(drizzle(database.client, { schema }), { migrationsFolder });
}
