// What the SMTP listener needs besides sockets: settings, and per session the three ports the
// session talks to (SASL, the restriction lists, accepting a message). The embedded runtime
// implements them over its own database and queue (localSmtpBackend in smtp-listener.ts); upstream
// mode over a deployed gateway (upstream/upstream-backend.ts).
import type { Settings } from "../core/config/settings.ts";
import type { LookupTable } from "../core/maps/lookup-table.ts";
import type { Logger } from "../core/ports.ts";
import type { AcceptPort, AuthPort, ClientInfo, PolicyPort } from "../core/smtp/server/index.ts";

export interface SmtpSessionContext {
  /** This session's settings (the listener's parameters included). */
  settings: Settings;
  client: ClientInfo;
  /** Whether TLS is up on the connection now. */
  secure(): boolean;
  logger: Logger;
}

export interface SmtpSessionBackend {
  auth: AuthPort;
  policy: PolicyPort;
  accept: AcceptPort;
  /** Ends what the session holds; called once the connection is closed. */
  close?(): Promise<void>;
}

export interface SmtpBackend {
  /** main.cf settings, read per connection so changes apply to the next session. */
  loadSettings(): Promise<Settings>;
  /** postern_tls_ccert_login_maps (client certificate -> login, for EXTERNAL); null: none. */
  clientCertLogins(settings: Settings): LookupTable | null;
  session(context: SmtpSessionContext): SmtpSessionBackend;
}
