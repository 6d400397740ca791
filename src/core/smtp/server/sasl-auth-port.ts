// The AuthPort over the mechanism table and main.cf's SASL policy: the same filters the HTTP
// side applies (smtpd_sasl_security_options without TLS, smtpd_sasl_tls_security_options with it,
// smtpd_sasl_mechanism_filter, mech_list), with what this connection can carry: -PLUS needs
// tls-exporter data, EXTERNAL a verified client certificate.
import type { Settings } from "../../config/settings.ts";
import type { MechanismSpec, SaslIdentity, SaslServerContext } from "../../sasl/mechanism.ts";
import { offeredMechanisms } from "../../sasl/offered-mechanisms.ts";
import type { AuthPort, AuthTransport } from "./session-ports.ts";

export interface SaslAuthPortOptions {
  settings: Settings;
  /** The SASL context for an exchange on this transport (credentials, bearer tokens ...). */
  context(transport: AuthTransport): SaslServerContext;
  /** The names a back end can run (Dovecot's list); every implemented mechanism when absent. */
  enabled?(): Promise<readonly string[] | undefined>;
  /** The spec that runs a name, when a back end wraps the built-in ones (Dovecot). */
  mechanism?(name: string): MechanismSpec | undefined;
  /** The login an identity submits as; null: no usable account. */
  login?(identity: SaslIdentity, mechanism: string): Promise<string | null>;
}

export function saslAuthPort(options: SaslAuthPortOptions): AuthPort {
  const { settings } = options;
  const port: AuthPort = {
    async offered(transport) {
      const enabled = options.enabled ? await options.enabled() : undefined;
      const specs = offeredMechanisms({
        ...(enabled ? { enabled } : {}),
        tls: transport.tls,
        securityOptions: settings.get("smtpd_sasl_security_options"),
        tlsSecurityOptions: settings.get("smtpd_sasl_tls_security_options"),
        mechanismFilter: settings.get("smtpd_sasl_mechanism_filter"),
        mechList: settings.get("mech_list"),
        channelBinding: transport.channelBinding !== null,
        externalIdentity: transport.externalIdentity !== null,
      });
      const wrap = options.mechanism;
      return wrap ? specs.flatMap((spec) => wrap(spec.name) ?? []) : specs;
    },
    context: (transport) => options.context(transport),
  };
  if (options.login) port.login = options.login;
  return port;
}
