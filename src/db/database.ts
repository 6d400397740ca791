// The drizzle database the stores run on, whichever driver opened it: D1 on Workers
// (src/worker/d1-database.ts), libsql on a local SQLite file on Node (src/node/sqlite-database.ts).
// Both are async SQLite dialects with an atomic batch(); the stores use nothing else, so they are
// typed against that common shape and never learn which driver they got.
import type { BatchItem, BatchResponse } from "drizzle-orm/batch";
import type { BaseSQLiteDatabase } from "drizzle-orm/sqlite-core";
import type * as schema from "./schema.ts";

export type Database = BaseSQLiteDatabase<"async", unknown, typeof schema> & {
  /** Runs the statements in one transaction: all of them take effect or none does. */
  batch<U extends BatchItem<"sqlite">, T extends Readonly<[U, ...U[]]>>(batch: T): Promise<BatchResponse<T>>;
};
