// The Node runtime's main.cf: POSTERN_CONFIG, or ./main.cf when it exists. The file is the lowest
// layer a deployment writes; the environment overrides it, and `postconf -e` overrides both.
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { parseMainCf } from "../core/config/main-cf.ts";
import type { RawSettings } from "../core/config/settings.ts";

export function readConfigFile(configured: string | undefined, warn: (line: string) => void): RawSettings {
  const file = path.resolve(configured || "main.cf");
  if (!existsSync(file)) {
    if (configured) throw new Error(`${file}: no such file (POSTERN_CONFIG)`);
    return {};
  }
  const { values, warnings } = parseMainCf(readFileSync(file, "utf8"), file);
  for (const warning of warnings) warn(`warning: ${warning}`);
  return values;
}
