// ESMTP service extensions from an EHLO reply (RFC 5321 §4.1.1.1): the first line greets, every
// further line is `KEYWORD [params]`. Only what the relay client acts on is kept.
import type { Reply } from "../reply.ts";

export interface Capabilities {
  /** False after a HELO fallback: no extensions at all. */
  esmtp: boolean;
  pipelining: boolean; // RFC 2920
  /** RFC 1870: null when SIZE is not offered, 0 when offered without a limit. */
  size: number | null;
  eightBitMime: boolean; // RFC 6152
  smtputf8: boolean; // RFC 6531
  enhancedStatusCodes: boolean; // RFC 2034
  dsn: boolean; // RFC 3461
  startTls: boolean; // RFC 3207
  /** RFC 4954 mechanisms, upper case; `AUTH=` lines (pre-RFC Outlook form) count too. */
  auth: readonly string[];
}

export const HELO_CAPABILITIES: Capabilities = {
  esmtp: false,
  pipelining: false,
  size: null,
  eightBitMime: false,
  smtputf8: false,
  enhancedStatusCodes: false,
  dsn: false,
  startTls: false,
  auth: [],
};

export function parseCapabilities(ehlo: Reply): Capabilities {
  const caps = { ...HELO_CAPABILITIES, esmtp: true };
  const auth = new Set<string>();
  for (const text of ehlo.texts.slice(1)) {
    const [first = "", ...rest] = text.trim().split(/\s+/);
    const eq = first.indexOf("=");
    const keyword = (eq === -1 ? first : first.slice(0, eq)).toUpperCase();
    const params = eq === -1 ? rest : [first.slice(eq + 1), ...rest];
    switch (keyword) {
      case "PIPELINING":
        caps.pipelining = true;
        break;
      case "SIZE": {
        const limit = /^[0-9]{1,15}$/.test(params[0] ?? "") ? Number(params[0]) : 0;
        caps.size = limit;
        break;
      }
      case "8BITMIME":
        caps.eightBitMime = true;
        break;
      case "SMTPUTF8":
        caps.smtputf8 = true;
        break;
      case "ENHANCEDSTATUSCODES":
        caps.enhancedStatusCodes = true;
        break;
      case "DSN":
        caps.dsn = true;
        break;
      case "STARTTLS":
        caps.startTls = true;
        break;
      case "AUTH":
        for (const mech of params) if (mech) auth.add(mech.toUpperCase());
        break;
    }
  }
  caps.auth = [...auth];
  return caps;
}
