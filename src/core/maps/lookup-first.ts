// Postfix's maps_find(): the tables of one parameter are searched in order and the first hit wins.
// A table that fails stops the search (the caller must not decide on a partial answer).
import type { LookupTable } from "./lookup-table.ts";

export async function lookupFirst(tables: readonly LookupTable[], key: string): Promise<string | null> {
  const folded = key.toLowerCase();
  for (const table of tables) {
    const value = await table.lookup(folded);
    if (value !== null) return value;
  }
  return null;
}
