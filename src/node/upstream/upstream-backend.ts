// Upstream mode's SmtpBackend: no database, no queue, no accounts. Settings come from main.cf and
// the environment only; each session authenticates through the gateway's SASL endpoint, asks the
// gateway's policy endpoint at RCPT TO and hands the message to the gateway at the end of DATA.
import type { Settings } from "../../core/config/settings.ts";
import type { Logger } from "../../core/ports.ts";
import type { SmtpBackend } from "../smtp-backend.ts";
import type { GatewayClient } from "./gateway-client.ts";
import { upstreamAcceptPort } from "./upstream-accept.ts";
import { type GatewayLogin, GatewayMechanisms, upstreamAuthPort } from "./upstream-auth.ts";
import { upstreamPolicyPort } from "./upstream-policy.ts";

export function upstreamSmtpBackend(settings: Settings, gateway: GatewayClient, logger: Logger): SmtpBackend {
  const mechanisms = new GatewayMechanisms(gateway, logger);
  return {
    loadSettings: async () => settings,
    // EXTERNAL is not offered upstream (the gateway cannot see this TLS session): no logins.
    clientCertLogins: () => null,
    session({ settings: sessionSettings, logger: sessionLogger }) {
      let login: GatewayLogin | null = null;
      const current = () => login;
      return {
        auth: upstreamAuthPort({
          gateway,
          mechanisms,
          settings: sessionSettings,
          authenticated: (value) => {
            login = value;
          },
        }),
        policy: upstreamPolicyPort({ gateway, login: current }),
        accept: upstreamAcceptPort({ gateway, logger: sessionLogger, login: current }),
      };
    },
  };
}
