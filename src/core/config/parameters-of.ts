import { isParameterName } from "./parameters.ts";
import type { RawSettings } from "./settings.ts";

/**
 * The Postfix parameters among a deployment's variables (wrangler vars, the process environment),
 * under their own names; every other variable is left out.
 */
export function parametersOf(variables: object): RawSettings {
  const found: RawSettings = {};
  for (const [name, value] of Object.entries(variables)) {
    if (isParameterName(name) && typeof value === "string") found[name] = value;
  }
  return found;
}
