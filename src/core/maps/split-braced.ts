// Postfix's list syntax (mystrtokq with CHARS_BRACE): items separated by commas and/or whitespace,
// where a {...} group is kept whole, so `inline:{ a=b, { c = d e } }` stays one item.
import { ConfigError } from "../config/settings.ts";

const SEPARATORS = new Set([",", " ", "\t", "\r", "\n"]);

export function splitBraced(value: string): string[] {
  const items: string[] = [];
  let item = "";
  let depth = 0;
  for (const ch of value) {
    if (ch === "{") depth += 1;
    else if (ch === "}") {
      if (depth === 0) throw new ConfigError(`unbalanced "}" in "${value}"`);
      depth -= 1;
    } else if (depth === 0 && SEPARATORS.has(ch)) {
      if (item) items.push(item);
      item = "";
      continue;
    }
    item += ch;
  }
  if (depth > 0) throw new ConfigError(`missing "}" in "${value}"`);
  if (item) items.push(item);
  return items;
}

/** The inside of a `{ ... }` group, trimmed; null when `text` is not exactly one group. */
export function unbrace(text: string): string | null {
  if (!text.startsWith("{") || !text.endsWith("}")) return null;
  let depth = 0;
  for (let i = 0; i < text.length; i += 1) {
    if (text[i] === "{") depth += 1;
    else if (text[i] === "}") {
      depth -= 1;
      // The group must close at the very end: "{a}{b}" is two groups, "{a}b" has trailing text.
      if (depth === 0 && i !== text.length - 1) return null;
      if (depth < 0) return null;
    }
  }
  return depth === 0 ? text.slice(1, -1).trim() : null;
}
