// The server half of the auth-client handshake (VERSION, MECH..., SPID, CUID, COOKIE, DONE), fed
// one line at a time. Lines are accepted in any order and unknown ones ignored, as Postfix's
// xsasl_dovecot_server_connect() does; only a different major version is refused.
import { type DovecotMechanism, mechanismFromFlags } from "./mechanism-flags.ts";

/** The protocol version we speak: major 1; minor 2 makes an empty `resp=` an empty initial response. */
export const PROTOCOL_VERSION = { major: 1, minor: 2 } as const;

export interface DovecotHandshake {
  version: { major: number; minor: number };
  /** Offered mechanisms, in the server's order; private ones left out. */
  mechanisms: DovecotMechanism[];
  /** The auth process id (SPID), the connection id (CUID) and the cookie, when sent. */
  serverPid: string | null;
  connectionId: string | null;
  cookie: string | null;
}

export type HandshakeProgress =
  | { kind: "more" }
  | { kind: "done"; handshake: DovecotHandshake }
  | { kind: "error"; reason: string };

const UNSIGNED = /^\d{1,10}$/;

export class HandshakeParser {
  #version: { major: number; minor: number } | null = null;
  readonly #mechanisms: DovecotMechanism[] = [];
  #mechLines = 0;
  #serverPid: string | null = null;
  #connectionId: string | null = null;
  #cookie: string | null = null;

  /** Whether a SPID came without any MECH line: the signature of the auth-master/userdb sockets. */
  get looksLikeMasterSocket(): boolean {
    return this.#serverPid !== null && this.#mechLines === 0;
  }

  /** Takes one line, already split into unescaped fields. */
  feed(fields: readonly string[]): HandshakeProgress {
    const [command, ...args] = fields;
    switch (command) {
      case "VERSION": {
        if (this.#version) break;
        const [major, minor] = args;
        if (major === undefined || minor === undefined || !UNSIGNED.test(major) || !UNSIGNED.test(minor)) {
          return { kind: "error", reason: "Protocol version error" };
        }
        if (Number(major) !== PROTOCOL_VERSION.major) {
          return {
            kind: "error",
            reason: `Protocol version mismatch (${major} vs. ${PROTOCOL_VERSION.major})`,
          };
        }
        this.#version = { major: Number(major), minor: Number(minor) };
        break;
      }
      case "MECH": {
        const [name, ...flags] = args;
        if (!name) return { kind: "error", reason: "MECH line without a mechanism name" };
        this.#mechLines++;
        const mechanism = mechanismFromFlags(name, flags);
        const seen = this.#mechanisms.some((m) => m.name.toUpperCase() === name.toUpperCase());
        if (mechanism && !seen) this.#mechanisms.push(mechanism);
        break;
      }
      case "SPID":
        this.#serverPid = args[0] ?? null;
        break;
      case "CUID":
        this.#connectionId = args[0] ?? null;
        break;
      case "COOKIE":
        this.#cookie = args[0] ?? null;
        break;
      case "DONE":
        if (!this.#version) return { kind: "error", reason: "handshake ended without a VERSION line" };
        return {
          kind: "done",
          handshake: {
            version: this.#version,
            mechanisms: this.#mechanisms,
            serverPid: this.#serverPid,
            connectionId: this.#connectionId,
            cookie: this.#cookie,
          },
        };
      default:
        // unknown handshake lines: ignored, for servers newer than this client
        break;
    }
    return { kind: "more" };
  }
}
