// main.cf semantics for a set of parameter values: defaults, then deployment vars, then run-time
// overrides (`postconf -e`), with $name / ${name} expansion as Postfix does it.
import { isParameterName, PARAMETERS, type ParameterName } from "./parameters.ts";

export type RawSettings = Partial<Record<string, string>>;

export class ConfigError extends Error {
  readonly code = "ERR_CONFIG";
  readonly transient = false;
}

const MAX_EXPANSION_DEPTH = 10;

export class Settings {
  readonly #values: Map<ParameterName, string>;

  constructor(...layers: RawSettings[]) {
    this.#values = new Map();
    for (const name of Object.keys(PARAMETERS) as ParameterName[]) {
      this.#values.set(name, PARAMETERS[name].default);
    }
    for (const layer of layers) {
      for (const [name, value] of Object.entries(layer)) {
        if (value !== undefined && isParameterName(name)) this.#values.set(name, value.trim());
      }
    }
  }

  /** These settings with one more layer on top (a per-listener or per-test override). */
  withLayer(layer: RawSettings): Settings {
    const next = new Settings();
    for (const [name, value] of this.#values) next.#values.set(name, value);
    for (const [name, value] of Object.entries(layer)) {
      if (value !== undefined && isParameterName(name)) next.#values.set(name, value.trim());
    }
    return next;
  }

  /** The expanded value of a parameter. */
  get(name: ParameterName): string {
    return this.#expand(this.#values.get(name) ?? "", 0);
  }

  /** The value as written, before expansion (what `postconf` without -x shows). */
  raw(name: ParameterName): string {
    return this.#values.get(name) ?? "";
  }

  bool(name: ParameterName): boolean {
    const value = this.get(name).toLowerCase();
    if (value === "yes" || value === "true") return true;
    if (value === "no" || value === "false" || value === "") return false;
    throw new ConfigError(`${name} = ${value}: expected yes or no`);
  }

  int(name: ParameterName): number {
    const value = this.get(name);
    if (!/^\d+$/.test(value)) throw new ConfigError(`${name} = ${value}: expected a whole number`);
    return Number(value);
  }

  /** A Postfix time value ("300s", "5d", "90" = seconds), in milliseconds. */
  duration(name: ParameterName): number {
    const value = parseDuration(this.get(name));
    if (value === null)
      throw new ConfigError(`${name} = ${this.get(name)}: expected a time like 300s, 5m, 5d`);
    return value;
  }

  /** A list value: commas and/or whitespace separate items. */
  list(name: ParameterName): string[] {
    return splitList(this.get(name));
  }

  #expand(value: string, depth: number): string {
    if (!value.includes("$")) return value;
    if (depth > MAX_EXPANSION_DEPTH) throw new ConfigError(`parameter expansion too deep in "${value}"`);
    // Postfix names may hold capitals (smtp_tls_CAfile).
    return value.replace(/\$(?:\{([A-Za-z0-9_]+)\}|([A-Za-z0-9_]+))/g, (whole, braced, bare) => {
      const name = (braced ?? bare) as string;
      if (!isParameterName(name)) return whole;
      return this.#expand(this.#values.get(name) ?? "", depth + 1);
    });
  }
}

const UNITS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400, w: 604800 };

export function parseDuration(value: string): number | null {
  const match = /^(\d+)([smhdw]?)$/.exec(value.trim());
  if (!match) return null;
  return Number(match[1]) * (UNITS[match[2] || "s"] ?? 1) * 1000;
}

export function splitList(value: string): string[] {
  return value.split(/[\s,]+/).filter((item) => item.length > 0);
}
