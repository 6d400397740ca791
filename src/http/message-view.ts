// The JSON shape of GET /v1/messages/{id}: per-recipient status with the remote reply.
import type { MessageView } from "../db/message-store.ts";

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

export function renderMessage(view: MessageView) {
  const { message } = view;
  return {
    id: message.id,
    status: message.state,
    status_reason: message.stateReason,
    from: message.mailFrom,
    size: message.size,
    message_id: message.headerMessageId,
    created_at: iso(message.createdAt),
    updated_at: iso(message.updatedAt),
    attempts: message.attempts,
    recipients: view.recipients.map((r) => ({
      address: r.address,
      status: r.status,
      reply: r.lastReply,
      attempts: r.attempts,
      next_attempt_at: r.status === "deferred" ? iso(message.nextAttemptAt) : null,
      updated_at: iso(r.updatedAt),
    })),
  };
}
