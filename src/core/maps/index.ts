export { type AccessAction, parseAccessAction } from "./access-action.ts";
export { inlineTable } from "./inline-table.ts";
export { lookupFirst } from "./lookup-first.ts";
export type { LookupTable } from "./lookup-table.ts";
export { MapTypeError } from "./map-type-error.ts";
export { openTable, type TableBackends } from "./open-table.ts";
export { parseMapList } from "./parse-map-list.ts";
export { splitBraced, unbrace } from "./split-braced.ts";
export { staticTable } from "./static-table.ts";
