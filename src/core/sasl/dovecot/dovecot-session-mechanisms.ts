// Dovecot's mechanisms for a connection-oriented session (one SMTP connection), as Postfix's
// xsasl_dovecot_server does: one Dovecot auth connection for the whole session, opened at the
// first need (EHLO's mechanism list or AUTH) and closed with the session, and every exchange runs
// on it from AUTH to verdict. So challenge-response mechanisms (CRAM-MD5, SCRAM-*, DIGEST-MD5)
// work, unlike over stateless HTTP (dovecot-replay-mechanism.ts).
//
// Names are those of Postern's mechanism table, so smtpd_sasl_*_security_options and the filters
// apply as they do to the built-in ones. Not relayed: -PLUS variants (Dovecot 2.3 takes no channel
// binding data from its client) and EXTERNAL (the certificate identity is Postern's to check).
import type { MechanismSpec, SaslStatus, Step } from "../mechanism.ts";
import { findMechanism } from "../mechanisms.ts";
import type { DovecotAuthClient, DovecotStartOptions } from "./dovecot-auth-client.ts";

export interface DovecotSessionOptions {
  /** The session's client; `close()` it when the session ends. */
  client: DovecotAuthClient;
  /** Dovecot's AUTH parameters at the time of the AUTH command (`secured` changes with STARTTLS). */
  params(): Omit<DovecotStartOptions, "initial">;
}

export interface DovecotSessionMechanisms {
  /** The names Dovecot offers that Postern can announce; empty while Dovecot is unreachable. */
  enabled(): Promise<string[]>;
  mechanism(name: string): MechanismSpec | undefined;
}

export function dovecotSessionMechanisms(options: DovecotSessionOptions): DovecotSessionMechanisms {
  const { client } = options;
  return {
    async enabled() {
      // Opened once; mechanisms() keeps the last handshake's list if the service blips.
      await client.open();
      return client
        .mechanisms()
        .map((mechanism) => findMechanism(mechanism.name))
        .filter((spec): spec is MechanismSpec => spec !== undefined && relayable(spec))
        .map((spec) => spec.name);
    },
    mechanism(name) {
      const spec = findMechanism(name);
      if (!spec || !relayable(spec)) return undefined;
      return {
        ...spec,
        server: {
          async start(_ctx, initial): Promise<Step> {
            const started = await client.start(spec.name, { ...options.params(), initial });
            return step(started.status, started.id);
          },
          async step(_ctx, state, response): Promise<Step> {
            const id = state.dovecotId;
            if (typeof id !== "number") {
              return { status: { kind: "malformed", reason: "invalid exchange state" } };
            }
            return step(await client.continue(id, response), id);
          },
        },
      };
    },
  };
}

function relayable(spec: MechanismSpec): boolean {
  return !spec.properties.channelBinding && !spec.properties.external;
}

/** The exchange id rides along in the state between steps. */
function step(status: SaslStatus, id: number): Step {
  return status.kind === "more" ? { status, state: { dovecotId: id } } : { status };
}
