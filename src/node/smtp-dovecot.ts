// smtpd_sasl_type = dovecot on the SMTP listener: one Dovecot auth connection per SMTP session
// (inet:host:port or a UNIX socket path), so every mechanism Dovecot offers that Postern's table
// knows works, challenge-response ones included. The session closes it when it ends.
import type { Settings } from "../core/config/settings.ts";
import type { Logger } from "../core/ports.ts";
import { DovecotAuthClient } from "../core/sasl/dovecot/dovecot-auth-client.ts";
import {
  type DovecotSessionMechanisms,
  dovecotSessionMechanisms,
} from "../core/sasl/dovecot/dovecot-session-mechanisms.ts";
import { parseSaslPath } from "../core/sasl/dovecot/parse-sasl-path.ts";
import type { ClientInfo } from "../core/smtp/server/index.ts";
import { connectNode } from "./net-socket.ts";

const DOVECOT_TIMEOUT_MS = 10_000;

export interface SmtpDovecotSasl extends DovecotSessionMechanisms {
  close(): Promise<void>;
}

export function smtpDovecotSasl(
  settings: Settings,
  client: ClientInfo,
  secure: () => boolean,
  logger: Pick<Logger, "warn">,
): SmtpDovecotSasl {
  const label = settings.get("smtpd_sasl_path");
  const path = parseSaslPath(label);
  const connection = new DovecotAuthClient({
    label,
    timeoutMs: DOVECOT_TIMEOUT_MS,
    logger,
    connect: () =>
      path.kind === "inet"
        ? connectNode({ host: path.host, port: path.port, tls: "off", timeoutMs: DOVECOT_TIMEOUT_MS })
        : connectNode({
            host: "localhost",
            port: 0,
            path: path.path,
            tls: "off",
            timeoutMs: DOVECOT_TIMEOUT_MS,
          }),
  });
  const mechanisms = dovecotSessionMechanisms({
    client: connection,
    params: () => ({
      service: "smtp",
      secured: secure(),
      ...(client.address !== "unknown" ? { remoteIp: client.address } : {}),
    }),
  });
  return { ...mechanisms, close: () => connection.close() };
}
