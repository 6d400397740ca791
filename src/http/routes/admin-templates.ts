// Message templates of an account: /v1/admin/accounts/{login}/templates/{name}.
import { Hono } from "hono";
import { z } from "zod";
import { checkTemplate, renderTemplate } from "../../core/webhooks/template.ts";
import { describeAdmin } from "../openapi/describe.ts";
import { ProblemError } from "../problem.ts";
import type { AppEnv, Services } from "../services.ts";
import { parseJson } from "./parse-json.ts";

export const templateBody = z.object({
  subject: z.string().min(1).max(998),
  text: z.string().max(1_000_000).nullable().optional(),
  html: z.string().max(1_000_000).nullable().optional(),
});
const nameRule = /^[A-Za-z0-9_.-]{1,100}$/;
const renderBody = z.object({ variables: z.record(z.string(), z.string()) });

/** OpenAPI descriptions (GET /openapi.json). */
const doc = {
  list: describeAdmin("listTemplates", "An account's message templates"),
  get: describeAdmin("getTemplate", "One template"),
  put: describeAdmin("putTemplate", "Create or replace a template", templateBody),
  remove: describeAdmin("deleteTemplate", "Delete a template", undefined, 204),
  render: describeAdmin("renderTemplate", "Preview a template with variables (nothing is sent)", renderBody),
};

export const adminTemplates = new Hono<AppEnv>();

adminTemplates.get("/", doc.list, async (c) => {
  const account = await accountOf(c.get("services"), c.req.param("login"));
  return c.json({ templates: (await c.get("services").templates.list(account.id)).map(view) });
});

adminTemplates.get("/:name", doc.get, async (c) => {
  const services = c.get("services");
  const account = await accountOf(services, c.req.param("login"));
  const row = await services.templates.get(account.id, c.req.param("name"));
  if (!row) throw notFound("No such template");
  return c.json(view(row));
});

adminTemplates.put("/:name", doc.put, async (c) => {
  const services = c.get("services");
  const account = await accountOf(services, c.req.param("login"));
  const name = c.req.param("name");
  if (!nameRule.test(name)) throw invalid("name: letters, digits, '_', '.', '-', at most 100");
  const body = await parseJson(c.req.raw, templateBody);
  const parts = { subject: body.subject, text: body.text ?? null, html: body.html ?? null };
  const problems = checkTemplate(parts);
  if (problems.length) throw invalid(problems.join("; "));
  return c.json(view(await services.templates.put(account.id, name, parts)));
});

adminTemplates.delete("/:name", doc.remove, async (c) => {
  const services = c.get("services");
  const account = await accountOf(services, c.req.param("login"));
  if (!(await services.templates.delete(account.id, c.req.param("name")))) throw notFound("No such template");
  return c.body(null, 204);
});

/** A preview: the template rendered with the given variables (nothing is sent). */
adminTemplates.post("/:name/render", doc.render, async (c) => {
  const services = c.get("services");
  const account = await accountOf(services, c.req.param("login"));
  const row = await services.templates.get(account.id, c.req.param("name"));
  if (!row) throw notFound("No such template");
  const body = await parseJson(c.req.raw, renderBody);
  const result = renderTemplate(row, body.variables);
  if (!result.ok) throw invalid(`no value for ${result.missing.map((m) => `{{ ${m} }}`).join(", ")}`);
  return c.json(result.value);
});

function view(row: {
  name: string;
  subject: string;
  text: string | null;
  html: string | null;
  updatedAt: number;
}) {
  return { name: row.name, subject: row.subject, text: row.text, html: row.html, updated_at: row.updatedAt };
}

export async function accountOf(services: Services, login: string | undefined) {
  const account = login ? await services.accounts.find(login) : null;
  if (!account) throw notFound("No such account");
  return account;
}

function notFound(detail: string): ProblemError {
  return new ProblemError({ slug: "not-found", title: "Not found", status: 404, detail });
}

function invalid(detail: string): ProblemError {
  return new ProblemError({ slug: "invalid-request", title: "Invalid request", status: 422, detail });
}
