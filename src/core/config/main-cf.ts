// Postfix's main.cf syntax (postconf(5) "SYNTAX"): `name = value` lines; a line that starts with
// whitespace continues the previous one; lines whose first non-blank character is `#` are
// comments, as are blank lines. $name expansion happens later, in Settings. Unknown names are
// kept out and reported, as Postfix warns about unused parameters.
import { isParameterName } from "./parameters.ts";
import { ConfigError, type RawSettings } from "./settings.ts";

export interface MainCf {
  values: RawSettings;
  /** Postfix-style warnings: `/path, line N: unused parameter: name=value`. */
  warnings: string[];
}

export function parseMainCf(text: string, source = "main.cf"): MainCf {
  const values: RawSettings = {};
  const warnings: string[] = [];
  const logical: { line: number; text: string }[] = [];
  text.split(/\r?\n/).forEach((raw, index) => {
    if (/^\s*(#|$)/.test(raw)) return;
    if (/^\s/.test(raw)) {
      const previous = logical.at(-1);
      if (!previous)
        throw new ConfigError(`${source}, line ${index + 1}: continuation line without a parameter`);
      previous.text += ` ${raw.trim()}`;
      return;
    }
    logical.push({ line: index + 1, text: raw.trim() });
  });
  for (const { line, text: entry } of logical) {
    const match = /^([A-Za-z0-9_]+)\s*=\s*(.*)$/.exec(entry);
    if (!match) throw new ConfigError(`${source}, line ${line}: expected name = value`);
    const [, name, value] = match as unknown as [string, string, string];
    if (isParameterName(name)) values[name] = value.trim();
    else warnings.push(`${source}, line ${line}: unused parameter: ${name}=${value.trim()}`);
  }
  return { values, warnings };
}
