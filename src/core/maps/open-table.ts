// Opens a `type:name` map spec. inline: and static: are built in; store-backed types (d1:, sqlite:)
// come from the runtime, which knows where its tables live.
import { ConfigError } from "../config/settings.ts";
import { inlineTable } from "./inline-table.ts";
import type { LookupTable } from "./lookup-table.ts";
import { MapTypeError } from "./map-type-error.ts";
import { staticTable } from "./static-table.ts";

export type TableBackends = Readonly<Record<string, (name: string) => LookupTable>>;

const BUILT_IN: TableBackends = { inline: inlineTable, static: staticTable };

export function openTable(spec: string, backends: TableBackends = {}): LookupTable {
  const colon = spec.indexOf(":");
  if (colon <= 0) throw new ConfigError(`"${spec}": need "type:name"`);
  const type = spec.slice(0, colon);
  const name = spec.slice(colon + 1);
  const open = Object.hasOwn(BUILT_IN, type)
    ? BUILT_IN[type]
    : Object.hasOwn(backends, type)
      ? backends[type]
      : null;
  if (!open) {
    const known = [...Object.keys(BUILT_IN), ...Object.keys(backends)].join(", ");
    throw new MapTypeError(`unsupported dictionary type: ${type} in "${spec}" (known: ${known})`);
  }
  return open(name);
}
