// main.cf at run time (the postconf of Postern): show every parameter with its default, set or
// reset one. A value is checked before it is stored, so a typo cannot break mail flow.
import { Hono } from "hono";
import { z } from "zod";
import { isParameterName, PARAMETERS, type ParameterName } from "../../core/config/parameters.ts";
import { validateParameter } from "../../core/config/validate-parameter.ts";
import { describeAdmin } from "../openapi/describe.ts";
import { ProblemError } from "../problem.ts";
import type { AppEnv } from "../services.ts";
import { parseJson } from "./parse-json.ts";

const body = z.object({
  value: z
    .string()
    .max(8192)
    .regex(/^[^\x00-\x08\x0a-\x1f\x7f]*$/, "one line"),
});

/** OpenAPI descriptions (GET /openapi.json). */
const doc = {
  list: describeAdmin("listSettings", "Every parameter with its value and default (postconf)"),
  set: describeAdmin("setSetting", "Set a parameter (postconf -e)", body),
  reset: describeAdmin("resetSetting", "Back to the default (postconf -X)"),
};

export const adminSettings = new Hono<AppEnv>();

adminSettings.get("/", doc.list, async (c) => {
  const settings = c.get("requestSettings");
  const overrides = await c.get("services").settingsStore.load();
  const parameters = Object.fromEntries(
    (Object.keys(PARAMETERS) as ParameterName[]).map((name) => [
      name,
      {
        value: settings.raw(name),
        expanded: settings.get(name),
        default: PARAMETERS[name].default,
        overridden: overrides[name] !== undefined,
      },
    ]),
  );
  return c.json({ parameters });
});

adminSettings.put("/:name", doc.set, async (c) => {
  const name = parameterName(c.req.param("name"));
  const { value } = await parseJson(c.req.raw, body);
  const problem = validateParameter(name, value.trim());
  if (problem)
    throw new ProblemError({
      slug: "invalid-setting",
      title: "Invalid setting",
      status: 422,
      detail: `${name} = ${value}: ${problem}`,
    });
  await c.get("services").settingsStore.set(name, value.trim());
  return c.json({ name, value: value.trim() });
});

adminSettings.delete("/:name", doc.reset, async (c) => {
  const name = parameterName(c.req.param("name"));
  await c.get("services").settingsStore.delete(name);
  return c.json({ name, value: PARAMETERS[name].default });
});

function parameterName(name: string): ParameterName {
  if (!isParameterName(name)) {
    throw new ProblemError({
      slug: "unknown-setting",
      title: "Unknown parameter",
      status: 404,
      detail: `unknown parameter ${name}`,
    });
  }
  return name;
}
