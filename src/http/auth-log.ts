// Authentication log lines in Postfix's shape, so fail2ban filters written for Postfix match.
import { printable } from "../core/printable.ts";
import { describeClient } from "./client-info.ts";
import type { ClientInfo, Services } from "./services.ts";

export function logAuthFailure(
  services: Services,
  client: ClientInfo,
  mechanism: string,
  reason: string,
  login?: string | null,
): void {
  const user = login ? `, sasl_username=${printable(login)}` : "";
  services.logger.warn(
    `warning: ${describeClient(client)}: SASL ${printable(mechanism, 40)} authentication failed: ${printable(reason)}${user}`,
  );
  services.events.authFailed({ login, mechanism, reason, clientAddress: client.address });
}
