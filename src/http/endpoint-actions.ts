// Event endpoints, as the admin API and an account's own API both manage them: the request
// shapes, the secret made and sealed here (shown once), the views.
import { z } from "zod";
import { sealSecret } from "../core/auth/secret-box.ts";
import { EVENT_TYPES } from "../core/webhooks/event-types.ts";
import { newWebhookSecret } from "../core/webhooks/standard-webhooks.ts";
import type { EndpointRow, OutboxRow } from "../db/endpoint-store.ts";
import { ProblemError } from "./problem.ts";
import type { Services } from "./services.ts";
import { endpointSecretContext } from "./webhook-services.ts";

const eventList = z.array(z.enum(EVENT_TYPES)).min(1);
const endpointUrl = z.url({ protocol: /^https?$/ }).max(2000);

export const endpointCreateFields = {
  url: endpointUrl,
  /** Omitted or null: every event type. */
  events: eventList.nullable().optional(),
};

export const endpointUpdate = z.strictObject({
  url: endpointUrl.optional(),
  events: eventList.nullable().optional(),
  disabled: z.boolean().optional(),
  /** Makes a new secret (shown once); the old one stops signing at once. */
  rotate_secret: z.literal(true).optional(),
});

export async function createEndpoint(
  services: Services,
  accountId: string,
  body: { url: string; events?: readonly string[] | null | undefined },
) {
  const id = `ep_${randomId()}`;
  const secret = newWebhookSecret();
  const row = await services.endpoints.create({
    id,
    accountId,
    url: body.url,
    secret: await sealEndpointSecret(services, id, secret),
    events: body.events ? body.events.join(" ") : null,
  });
  return { ...endpointView(row), secret };
}

export async function updateEndpoint(
  services: Services,
  existing: EndpointRow,
  body: z.infer<typeof endpointUpdate>,
) {
  const secret = body.rotate_secret ? newWebhookSecret() : null;
  const row = await services.endpoints.update(existing.id, {
    url: body.url,
    disabled: body.disabled,
    events: body.events === undefined ? undefined : body.events ? body.events.join(" ") : null,
    secret: secret ? await sealEndpointSecret(services, existing.id, secret) : undefined,
  });
  if (!row) throw endpointNotFound();
  return { ...endpointView(row), ...(secret ? { secret } : {}) };
}

export function endpointView(row: EndpointRow) {
  return {
    id: row.id,
    account_id: row.accountId,
    url: row.url,
    events: row.events ? row.events.split(" ") : null,
    disabled: row.disabled,
    disabled_reason: row.disabledReason,
    created_at: row.createdAt,
    updated_at: row.updatedAt,
  };
}

export function eventLogView(rows: OutboxRow[]) {
  return {
    events: rows.map((r) => ({
      id: r.id,
      type: r.type,
      state: r.state,
      attempts: r.attempts,
      next_attempt_at: r.nextAttemptAt,
      last_status: r.lastStatus,
      last_error: r.lastError,
      created_at: r.createdAt,
    })),
  };
}

export function endpointNotFound(): ProblemError {
  return new ProblemError({ slug: "not-found", title: "Not found", status: 404, detail: "No such endpoint" });
}

export function missingSecretKey(): ProblemError {
  return new ProblemError({
    slug: "secret-key-missing",
    title: "No key for secrets",
    status: 409,
    detail: "webhook secrets need POSTERN_SECRET_KEY to be sealed at rest",
  });
}

async function sealEndpointSecret(services: Services, id: string, secret: string): Promise<string> {
  if (!services.secretKeys) throw missingSecretKey();
  return sealSecret(services.secretKeys, secret, endpointSecretContext(id));
}

export function randomId(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(12));
  return [...bytes].map((b) => b.toString(16).padStart(2, "0")).join("");
}
