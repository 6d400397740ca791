// smtpd_sasl_type: who runs the mechanisms and who vouches for a login. `postern` (or `cyrus`, as
// Postfix's default names it) is the built-in table over Postern's own accounts; `dovecot` hands
// the exchange to an existing Dovecot auth service at smtpd_sasl_path and takes its verdict, as
// Postfix does. Over stateless HTTP, Dovecot can run the replayable mechanisms (PLAIN, LOGIN).
import type { Settings } from "../core/config/settings.ts";
import { DovecotAuthClient } from "../core/sasl/dovecot/dovecot-auth-client.ts";
import { dovecotReplayServer, REPLAYABLE_MECHANISMS } from "../core/sasl/dovecot/dovecot-replay-mechanism.ts";
import { parseSaslPath } from "../core/sasl/dovecot/parse-sasl-path.ts";
import type { MechanismSpec } from "../core/sasl/mechanism.ts";
import { findMechanism } from "../core/sasl/mechanisms.ts";
import type { DbCredentialSource } from "../db/credential-source.ts";
import type { ClientInfo, SaslIdentity, Services } from "./services.ts";

export interface SaslBackend {
  kind: "postern" | "dovecot";
  /** Mechanism names this back end can run here, before policy; undefined: the whole table. */
  enabled(): Promise<string[] | undefined>;
  mechanism(name: string): MechanismSpec | undefined;
  /** Who a verified login is, for ownership and logs. Null: no usable account. */
  identity(login: string, method: string): Promise<SaslIdentity | null>;
}

export function saslType(settings: Settings): "postern" | "dovecot" {
  const type = settings.get("smtpd_sasl_type").toLowerCase();
  return type === "dovecot" ? "dovecot" : "postern";
}

export function saslBackend(
  services: Services,
  settings: Settings,
  credentials: DbCredentialSource,
  client: ClientInfo,
  tls: boolean,
): SaslBackend {
  if (saslType(settings) === "postern") {
    return {
      kind: "postern",
      enabled: async () => undefined,
      mechanism: findMechanism,
      async identity(login, method) {
        const account = await credentials.account(login);
        return account ? { accountId: account.id, username: account.login, method } : null;
      },
    };
  }

  const path = parseSaslPath(settings.get("smtpd_sasl_path"));
  const open = () =>
    new DovecotAuthClient({
      label: settings.get("smtpd_sasl_path"),
      timeoutMs: 10_000,
      logger: services.logger,
      connect: () => {
        if (path.kind !== "inet") throw new Error("a UNIX socket smtpd_sasl_path needs the Node runtime");
        return services.connect({ host: path.host, port: path.port, tls: "off" });
      },
    });
  const params = {
    service: "smtp",
    secured: tls,
    ...(client.address !== "unknown" ? { remoteIp: client.address } : {}),
  };
  return {
    kind: "dovecot",
    async enabled() {
      const dovecot = open();
      try {
        if (!(await dovecot.open())) return [];
        const offered = new Set(dovecot.mechanisms().map((m) => m.name.toUpperCase()));
        return REPLAYABLE_MECHANISMS.filter((name) => offered.has(name));
      } finally {
        await dovecot.close();
      }
    },
    mechanism(name) {
      const spec = findMechanism(name);
      if (!spec || !(REPLAYABLE_MECHANISMS as readonly string[]).includes(spec.name)) return undefined;
      return { ...spec, server: dovecotReplayServer({ open, mechanism: spec.name, params }) };
    },
    // Dovecot is the authority: its users need no Postern account.
    identity: async (login, method) => ({ accountId: null, username: login, method }),
  };
}
