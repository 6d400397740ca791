// Next-hop syntax (postconf(5) relayhost): [host]:port, [host], host:port, host, with service names
// for ports, several separated by comma or whitespace and tried in order (Postfix >= 3.5). A
// destination may name its transport as a transport(5) entry does: `smtp:[host]:587`,
// `lmtp:[host]:24`, `lmtp:unix:/path` (a UNIX socket: Node only).
// Brackets mean "no MX lookup"; Postern never looks up MX (Workers cannot reach port 25), so a bare
// host is used as written too.

export type HopProtocol = "smtp" | "lmtp";

export interface NextHop {
  protocol: HopProtocol;
  /** Host name or address; for a UNIX socket, its path. */
  host: string;
  /** 0 for a UNIX socket. */
  port: number;
  /** The destination as the admin wrote it, without a transport: the smtp_sasl_password_maps key. */
  written: string;
  bracketed: boolean;
  /** `lmtp:unix:/path`. */
  unix: boolean;
}

const SERVICES: Record<string, number> = {
  smtp: 25,
  submission: 587,
  submissions: 465,
  smtps: 465,
  lmtp: 24,
};

export type NextHopResult = { ok: true; hop: NextHop } | { ok: false; reason: string };
export type NextHopsResult = { ok: true; hops: NextHop[] } | { ok: false; reason: string };

export function parseNextHop(value: string): NextHopResult {
  let written = value.trim();
  if (written === "") return { ok: false, reason: "relayhost is not set" };
  let protocol: HopProtocol = "smtp";
  const transport = /^(smtp|lmtp):/i.exec(written);
  if (transport) {
    protocol = transport[1]!.toLowerCase() as HopProtocol;
    written = written.slice(transport[0].length);
  }
  if (protocol === "lmtp" && /^unix:/i.test(written)) {
    const socketPath = written.slice(5);
    if (!socketPath.startsWith("/") || /[\s\x00-\x1f\x7f]/.test(socketPath)) {
      return { ok: false, reason: `malformed next hop: ${value.trim()}` };
    }
    return { ok: true, hop: { protocol, host: socketPath, port: 0, written, bracketed: false, unix: true } };
  }
  const match = /^(?:\[([^\]\s]+)\]|([^:[\]\s,]+))(?::([A-Za-z0-9]+))?$/.exec(written);
  if (!match) return { ok: false, reason: `malformed relayhost: ${value.trim()}` };
  const host = (match[1] ?? match[2])!;
  const service = match[3];
  let port = protocol === "lmtp" ? 24 : 25;
  if (service !== undefined) {
    const byName = SERVICES[service.toLowerCase()];
    port = /^\d+$/.test(service) ? Number(service) : (byName ?? Number.NaN);
  }
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    return { ok: false, reason: `malformed relayhost port: ${value.trim()}` };
  }
  return {
    ok: true,
    hop: { protocol, host, port, written, bracketed: match[1] !== undefined, unix: false },
  };
}

/** A destination list (relayhost, a sender_dependent_relayhost_maps result), in order. */
export function parseNextHops(value: string): NextHopsResult {
  const parts = value.split(/[\s,]+/).filter(Boolean);
  if (parts.length === 0) return { ok: false, reason: "relayhost is not set" };
  const hops: NextHop[] = [];
  for (const part of parts) {
    const parsed = parseNextHop(part);
    if (!parsed.ok) return parsed;
    hops.push(parsed.hop);
  }
  return { ok: true, hops };
}

/**
 * smtp_sasl_password_maps keys for a next hop, in Postfix's order (smtp_sasl_glue.c): the remote
 * host name, then the destination exactly as written. So `[mail.example]:587` is found under
 * `mail.example` or `[mail.example]:587`, never under `[mail.example]` (SASL_README: "you must use
 * the same form").
 */
export function nextHopKeys(hop: NextHop): string[] {
  return hop.host === hop.written ? [hop.written] : [hop.host, hop.written];
}

/** `host[address]:port` as Postfix logs the relay (no DNS here: the address is the host). */
export function relayLabel(hop: NextHop): string {
  return hop.unix ? `${hop.host}[${hop.host}]` : `${hop.host}[${hop.host}]:${hop.port}`;
}
