// A restriction list parameter (smtpd_relay_restrictions = permit_mynetworks, ..., check_sasl_access
// d1:sasl_access) parsed once, at configuration time: an unknown name or a missing table is a
// configuration error naming the culprit, never something discovered per message.
import { ConfigError } from "../config/settings.ts";
import { splitBraced } from "../maps/split-braced.ts";
import { isRestrictionName, RESTRICTIONS, type RestrictionName } from "./restrictions.ts";

export interface Restriction {
  readonly name: RestrictionName;
  /** The `type:table` of check_sasl_access. */
  readonly table?: string;
}

const MAP_SPEC = /^[A-Za-z0-9_-]+:/;

export function parseRestrictions(value: string): Restriction[] {
  const items = splitBraced(value);
  const list: Restriction[] = [];
  for (let i = 0; i < items.length; i += 1) {
    const item = items[i] as string;
    // Restriction names are case-insensitive in Postfix (strcasecmp).
    const name = item.toLowerCase();
    if (!isRestrictionName(name)) throw new ConfigError(`unknown smtpd restriction: "${item}"`);
    if (!RESTRICTIONS[name].takesTable) {
      list.push({ name });
      continue;
    }
    const table = items[i + 1];
    if (table === undefined || !MAP_SPEC.test(table)) {
      throw new ConfigError(`restriction ${name}: bad argument "${table ?? ""}": need maptype:mapname`);
    }
    list.push({ name, table });
    i += 1;
  }
  return list;
}
