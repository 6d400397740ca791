// inline:{ key=value, { key = value with spaces } } (Postfix 3.0 dict_inline): the table is written
// in the parameter itself. A braced element may hold commas and whitespace; blanks around '=' and
// around the value are ignored.
import { ConfigError } from "../config/settings.ts";
import type { LookupTable } from "./lookup-table.ts";
import { splitBraced, unbrace } from "./split-braced.ts";

/** `name` is what follows `inline:`, braces included. */
export function inlineTable(name: string): LookupTable {
  const body = unbrace(name.trim());
  const need = `need "inline:{name=value...}"`;
  if (body === null) throw new ConfigError(`bad syntax: "inline:${name}"; ${need}`);
  const entries = new Map<string, string>();
  for (const item of splitBraced(body)) {
    const element = item.startsWith("{") ? unbrace(item) : item;
    if (element === null) throw new ConfigError(`syntax error in "${item}" in "inline:${name}"`);
    const eq = element.indexOf("=");
    const key = (eq < 0 ? element : element.slice(0, eq)).trim();
    if (eq < 0) throw new ConfigError(`missing '=' after "${key}" in "inline:${name}"; ${need}`);
    if (key === "" || /\s/.test(key)) throw new ConfigError(`bad name "${key}" in "inline:${name}"`);
    const folded = key.toLowerCase();
    // Which of two entries would win is anyone's guess: refuse rather than pick one.
    if (entries.has(folded)) throw new ConfigError(`duplicate entry "${key}" in "inline:${name}"`);
    entries.set(folded, element.slice(eq + 1).trim());
  }
  if (entries.size === 0) throw new ConfigError(`empty table: "inline:${name}"; ${need}`);
  return { lookup: async (key) => entries.get(key.toLowerCase()) ?? null };
}
