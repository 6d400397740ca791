import type { SaslIdentity } from "../services.ts";

/** The account that submitted it; for logins without one (Dovecot), the same login. */
export function isOwner(
  message: { accountId: string | null; saslUsername: string | null },
  sasl: SaslIdentity,
): boolean {
  if (message.accountId !== null || sasl.accountId !== null) return message.accountId === sasl.accountId;
  return message.saslUsername !== null && message.saslUsername.toLowerCase() === sasl.username.toLowerCase();
}
