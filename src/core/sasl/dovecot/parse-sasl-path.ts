// smtpd_sasl_path for smtpd_sasl_type = dovecot: `inet:host:port`, `inet:[ipv6]:port`, or a UNIX
// socket path (`unix:` prefix optional, as in Postfix). Postfix resolves a relative path such as
// `private/auth` against queue_directory; Postern has no queue directory, so it needs one given.
import { ConfigError } from "../../config/settings.ts";
import { printable } from "../../printable.ts";

export type SaslPath = { kind: "inet"; host: string; port: number } | { kind: "unix"; path: string };

const PORT = /^\d{1,5}$/;

export function parseSaslPath(value: string, queueDirectory?: string): SaslPath {
  const spec = value.trim();
  if (spec === "") throw new ConfigError("smtpd_sasl_path is empty: give inet:host:port or a socket path");
  const where = `smtpd_sasl_path "${printable(spec)}"`;
  if (spec.startsWith("inet:")) return parseInet(where, spec.slice("inet:".length));
  const path = spec.startsWith("unix:") ? spec.slice("unix:".length) : spec;
  if (path === "") throw new ConfigError(`${where}: empty socket path`);
  if (/[\x00-\x1f\x7f]/.test(path)) throw new ConfigError(`${where}: control character in path`);
  if (path.startsWith("/")) return { kind: "unix", path };
  if (queueDirectory?.startsWith("/")) {
    return { kind: "unix", path: `${queueDirectory.replace(/\/+$/, "")}/${path}` };
  }
  throw new ConfigError(
    `${where}: a relative path needs a queue directory; ` +
      `give an absolute path such as /var/spool/postfix/${printable(path)}`,
  );
}

function parseInet(where: string, rest: string): SaslPath {
  let host: string;
  let port: string;
  if (rest.startsWith("[")) {
    const close = rest.indexOf("]");
    if (close === -1 || rest[close + 1] !== ":")
      throw new ConfigError(`${where}: expected inet:[address]:port`);
    host = rest.slice(1, close);
    port = rest.slice(close + 2);
  } else {
    const colon = rest.lastIndexOf(":");
    if (colon === -1) throw new ConfigError(`${where}: expected inet:host:port`);
    host = rest.slice(0, colon);
    port = rest.slice(colon + 1);
    if (host.includes(":")) {
      throw new ConfigError(
        `${where}: put an IPv6 address in brackets: inet:[${printable(host)}]:${printable(port)}`,
      );
    }
  }
  if (host === "" || /[\s/[\]\x00-\x1f\x7f]/.test(host)) {
    throw new ConfigError(`${where}: invalid host "${printable(host)}"`);
  }
  const number = PORT.test(port) ? Number(port) : 0;
  if (number < 1 || number > 65535)
    throw new ConfigError(`${where}: invalid port "${printable(port)}" (1-65535)`);
  return { kind: "inet", host, port: number };
}
