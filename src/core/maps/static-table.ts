// static:value answers every key with the same value; static:{ value with spaces } for text that
// holds whitespace or commas (Postfix 3.0).
import { ConfigError } from "../config/settings.ts";
import type { LookupTable } from "./lookup-table.ts";
import { unbrace } from "./split-braced.ts";

/** `name` is what follows `static:`. */
export function staticTable(name: string): LookupTable {
  const value = name.startsWith("{") ? unbrace(name) : name;
  if (value === null) throw new ConfigError(`bad syntax: "static:${name}"; need "static:{value}"`);
  return { lookup: async () => value };
}
