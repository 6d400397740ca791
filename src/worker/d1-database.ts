import { drizzle } from "drizzle-orm/d1";
import type { Database } from "../db/database.ts";
import * as schema from "../db/schema.ts";

export function openDatabase(d1: D1Database): Database {
  return drizzle(d1, { schema });
}
