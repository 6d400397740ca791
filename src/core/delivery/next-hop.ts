// relayhost syntax (postconf(5)): [host]:port, [host], host:port, host; service names for ports.
// Brackets mean "no MX lookup"; Postern never looks up MX (Workers cannot reach port 25), so a bare
// host is used as written too.

export interface NextHop {
  host: string;
  port: number;
  /** The destination as the admin wrote it: the key for smtp_sasl_password_maps. */
  written: string;
  bracketed: boolean;
}

const SERVICES: Record<string, number> = {
  smtp: 25,
  submission: 587,
  submissions: 465,
  smtps: 465,
  lmtp: 24,
};

export type NextHopResult = { ok: true; hop: NextHop } | { ok: false; reason: string };

export function parseNextHop(value: string): NextHopResult {
  const written = value.trim();
  if (written === "") return { ok: false, reason: "relayhost is not set" };
  const match = /^(?:\[([^\]]+)\]|([^:[\]\s]+))(?::([A-Za-z0-9]+))?$/.exec(written);
  if (!match) return { ok: false, reason: `malformed relayhost: ${written}` };
  const host = (match[1] ?? match[2])!;
  const service = match[3];
  let port = 25;
  if (service !== undefined) {
    const byName = SERVICES[service.toLowerCase()];
    port = /^\d+$/.test(service) ? Number(service) : (byName ?? Number.NaN);
  }
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    return { ok: false, reason: `malformed relayhost port: ${written}` };
  }
  return { ok: true, hop: { host, port, written, bracketed: match[1] !== undefined } };
}

/** smtp_sasl_password_maps keys for a next hop, in Postfix's order. */
export function nextHopKeys(hop: NextHop): string[] {
  const keys = [hop.written];
  const bare = hop.bracketed ? `[${hop.host}]` : hop.host;
  if (!keys.includes(bare)) keys.push(bare);
  return keys;
}
