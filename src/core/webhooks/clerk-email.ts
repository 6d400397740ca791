// Clerk's `email.created` webhook (Svix-signed): with "Delivered by Clerk" off, Clerk hands over
// the rendered mail — to_email_address, from_email_address, subject, body (HTML), body_plain.

export interface ClerkEmail {
  to: string;
  from: string;
  subject: string;
  html?: string;
  text?: string;
}

export type ClerkResult =
  | { kind: "send"; email: ClerkEmail }
  /** Nothing to send: another event type, or a mail Clerk delivers itself. */
  | { kind: "ignore"; reason: string }
  | { kind: "invalid"; reason: string };

export function clerkEmail(payload: unknown): ClerkResult {
  if (!isObject(payload)) return { kind: "invalid", reason: "expected a JSON object" };
  if (payload.type !== "email.created") {
    return { kind: "ignore", reason: `event type ${String(payload.type).slice(0, 64)} is not email.created` };
  }
  const data = payload.data;
  if (!isObject(data)) return { kind: "invalid", reason: "email.created without data" };
  if (data.delivered_by_clerk === true) return { kind: "ignore", reason: "delivered by Clerk" };
  const to = str(data.to_email_address);
  if (!to) return { kind: "invalid", reason: "data.to_email_address is missing" };
  const html = str(data.body);
  const text = str(data.body_plain);
  if (!html && !text) return { kind: "invalid", reason: "data.body and data.body_plain are empty" };
  return {
    kind: "send",
    email: {
      to,
      from: str(data.from_email_address),
      subject: str(data.subject),
      ...(html ? { html } : {}),
      ...(text ? { text } : {}),
    },
  };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

function str(value: unknown): string {
  return typeof value === "string" ? value : "";
}
