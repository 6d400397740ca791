// Inbound webhooks: POST /v1/webhooks/{receiver id}. Each receiver is bound to one account and
// sends as it (submit-as-account.ts). The request must carry a valid Standard Webhooks (or Svix)
// signature made with the receiver's secret, within the timestamp tolerance; a webhook id is taken
// once, so a replayed or retried delivery that was accepted sends nothing again.
import { Hono } from "hono";
import { openSecret } from "../../core/auth/secret-box.ts";
import { printable } from "../../core/printable.ts";
import { clerkEmail } from "../../core/webhooks/clerk-email.ts";
import { mapPayload } from "../../core/webhooks/generic-mapping.ts";
import { verifyWebhook } from "../../core/webhooks/standard-webhooks.ts";
import { defaultSupabaseTemplate } from "../../core/webhooks/supabase-default-templates.ts";
import { planSupabaseEmails } from "../../core/webhooks/supabase-hook.ts";
import { renderTemplate, type TemplateParts } from "../../core/webhooks/template.ts";
import type { ReceiverRow } from "../../db/receiver-store.ts";
import type { ReceiverKind } from "../../db/schema.ts";
import { describeClient } from "../client-info.ts";
import { ProblemError } from "../problem.ts";
import { readLimited } from "../read-body.ts";
import { clerkConfig, genericConfig, supabaseConfig } from "../receiver-config.ts";
import type { AppEnv, ClientInfo, Services } from "../services.ts";
import {
  acceptAsAccount,
  authorizeAsAccount,
  type Prepared,
  prepareSubmission,
  type WebhookSubmission,
} from "../submit-as-account.ts";
import { receiverSecretContext, requireKeys } from "../webhook-services.ts";
import { describeReceiver } from "./webhooks-openapi.ts";

type Account = { id: string; login: string };

export const webhookRoutes = new Hono<AppEnv>();

webhookRoutes.post("/:id", describeReceiver, async (c) => {
  const services = c.get("services");
  const settings = c.get("requestSettings");
  const client = c.get("client");
  const receiver = await services.receivers.get(c.req.param("id"));
  const kind: ReceiverKind = receiver?.kind ?? "generic";
  try {
    if (!receiver || receiver.disabled) {
      throw new ProblemError({
        slug: "not-found",
        title: "Not found",
        status: 404,
        detail: "No such webhook receiver",
      });
    }
    const body = await readLimited(c.req.raw, settings.int("message_size_limit"));
    const secrets = (
      await openSecret(requireKeys(services.secretKeys), receiver.secret, receiverSecretContext(receiver.id))
    )
      .split(/\s+/)
      .filter(Boolean);
    const headers = c.req.raw.headers;
    const verified = await verifyWebhook({
      headers,
      body,
      secrets,
      prefix: headers.has("svix-id") && !headers.has("webhook-id") ? "svix" : "webhook",
    });
    if (!verified.ok) {
      services.logger.warn(
        `warning: ${describeClient(client)}: webhook ${receiver.id} (${kind}) refused: ${verified.reason}`,
      );
      throw new ProblemError({
        slug: "webhook-verification-failed",
        title: "Webhook verification failed",
        status: 401,
        detail: verified.reason,
        extra: { code: verified.code },
      });
    }
    const payload = parseJson(body);
    const found = await services.accounts.find(receiver.accountId);
    if (!found || found.disabled) {
      throw new ProblemError({
        slug: "account-disabled",
        title: "Account disabled",
        status: 403,
        smtpStatus: "5.7.1",
      });
    }
    const account = { id: found.id, login: found.login };
    if (!(await services.receivers.claimWebhookId(receiver.id, verified.id, Date.now()))) {
      services.logger.info(
        `webhook ${receiver.id}: ${printable(verified.id)} seen before; nothing sent again`,
      );
      return success(c, kind, [], true);
    }
    try {
      const submissions = await submissionsFor(receiver, account, payload, services);
      // Every message is checked and authorized before the first is stored.
      const prepared = submissions.map((s) => prepareSubmission(s, settings));
      const decisions: { p: Prepared; d: Awaited<ReturnType<typeof authorizeAsAccount>> }[] = [];
      for (const p of prepared)
        decisions.push({ p, d: await authorizeAsAccount(services, settings, client, account.login, p) });
      const ids: string[] = [];
      for (const { p, d } of decisions) ids.push(await acceptAsAccount(services, client, account, p, d));
      return success(c, kind, ids, false);
    } catch (error) {
      // Not accepted: the sender's retry with the same webhook id must go through.
      await services.receivers.releaseWebhookId(receiver.id, verified.id);
      throw error;
    }
  } catch (error) {
    if (kind === "supabase") return supabaseError(error, services, client);
    throw error;
  }
});

function success(
  c: { json: (body: unknown, status: 200 | 202) => Response },
  kind: ReceiverKind,
  ids: string[],
  duplicate: boolean,
) {
  // Supabase wants a 200 with an empty JSON object; the others get what was queued.
  if (kind === "supabase") return c.json({}, 200);
  return c.json({ messages: ids, ...(duplicate ? { duplicate: true } : {}) }, duplicate ? 200 : 202);
}

/** The error shape of Supabase Auth hooks: { error: { http_code, message } }. */
function supabaseError(error: unknown, services: Services, client: ClientInfo): Response {
  let status = 500;
  let message = "internal error";
  const headers: Record<string, string> = { "content-type": "application/json" };
  if (error instanceof ProblemError) {
    status = error.problem.status;
    message = error.problem.detail ?? error.problem.title;
    if (error.headers["retry-after"]) headers["retry-after"] = error.headers["retry-after"];
  } else if ((error as { transient?: boolean }).transient === true) {
    status = 503;
    message = "temporarily unavailable; nothing was sent";
    headers["retry-after"] = "30";
  } else {
    services.logger.error(`error: ${describeClient(client)}: supabase hook: ${(error as Error).message}`);
  }
  return new Response(JSON.stringify({ error: { http_code: status, message } }), { status, headers });
}

function parseJson(body: Uint8Array): unknown {
  try {
    return JSON.parse(new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(body));
  } catch {
    throw invalid("The body is not valid UTF-8 JSON");
  }
}

function invalid(detail: string): ProblemError {
  return new ProblemError({ slug: "invalid-webhook", title: "Invalid webhook payload", status: 400, detail });
}

async function submissionsFor(
  receiver: ReceiverRow,
  account: Account,
  payload: unknown,
  services: Services,
): Promise<WebhookSubmission[]> {
  const config: unknown = JSON.parse(receiver.config);
  switch (receiver.kind) {
    case "supabase": {
      const cfg = supabaseConfig.parse(config);
      const plan = planSupabaseEmails(payload, { supabaseUrl: cfg.supabase_url, templates: cfg.templates });
      if (!plan.ok) throw invalid(plan.reason);
      const out: WebhookSubmission[] = [];
      for (const email of plan.emails) {
        const action = email.variables.email_action_type!;
        const stored = await services.templates.get(account.id, email.template);
        const template = stored ?? defaultSupabaseTemplate(action);
        if (!template) throw noTemplate(email.template);
        out.push({ from: cfg.from, to: [email.to], ...render(email.template, template, email.variables) });
      }
      return out;
    }
    case "clerk": {
      const cfg = clerkConfig.parse(config);
      const result = clerkEmail(payload);
      if (result.kind === "invalid") throw invalid(result.reason);
      if (result.kind === "ignore") {
        services.logger.info(`webhook ${receiver.id}: ignored: ${result.reason}`);
        return [];
      }
      const { email } = result;
      return [
        {
          from: cfg.from ?? email.from,
          to: [email.to],
          subject: email.subject,
          text: email.text,
          html: email.html,
        },
      ];
    }
    case "generic": {
      const cfg = genericConfig.parse(config);
      const mapped = mapPayload(payload, cfg.mapping);
      if (!mapped.ok) throw invalid(mapped.reason);
      const name = mapped.value.template ?? cfg.template!;
      const template = await services.templates.get(account.id, name);
      if (!template) throw noTemplate(name);
      const rendered = render(name, template, mapped.value.variables);
      const from = mapped.value.from ?? cfg.from!;
      return [{ from, to: mapped.value.to, ...rendered, subject: mapped.value.subject ?? rendered.subject }];
    }
  }
}

function render(name: string, template: TemplateParts, variables: Record<string, string>) {
  const result = renderTemplate(template, variables);
  if (!result.ok) {
    throw new ProblemError({
      slug: "template-variable-missing",
      title: "Template variable missing",
      status: 422,
      detail: `template ${name}: no value for ${result.missing.map((m) => `{{ ${m} }}`).join(", ")}`,
    });
  }
  return result.value;
}

function noTemplate(name: string): ProblemError {
  return new ProblemError({
    slug: "template-not-found",
    title: "Template not found",
    status: 422,
    detail: `the account has no template named ${name}`,
  });
}
