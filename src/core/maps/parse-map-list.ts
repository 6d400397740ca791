// A parameter holding several tables (smtpd_sender_login_maps = d1:sender_login, inline:{...}):
// Postfix searches them in the order written.
import { ConfigError } from "../config/settings.ts";
import { splitBraced } from "./split-braced.ts";

const SPEC = /^[A-Za-z0-9_-]+:/;

export function parseMapList(value: string): string[] {
  const specs = splitBraced(value);
  for (const spec of specs) {
    if (!SPEC.test(spec)) throw new ConfigError(`"${spec}": need "type:name"`);
  }
  return specs;
}
