// RFC 5321 §4.1.2 mailbox syntax (with RFC 6531 UTF-8 allowed in atoms and domain labels) and the
// §4.5.3.1 size limits. Used for envelope addresses from every front end, so that a bad address is
// refused with 5.1.3 (RFC 3463) before anything is stored.

export interface Mailbox {
  /** Local part as written (dot-string or quoted-string). */
  local: string;
  /** Domain as written: a host name or an address literal in brackets. */
  domain: string;
  /** `local@domain` */
  address: string;
  /** True when either part carries non-ASCII (needs SMTPUTF8 downstream). */
  utf8: boolean;
}

export type MailboxResult = { ok: true; mailbox: Mailbox } | { ok: false; reason: string };

const MAX_LOCAL = 64;
const MAX_DOMAIN = 255;
const MAX_PATH = 254; // 256 for the path minus the angle brackets

// atext (RFC 5322 §3.2.3) plus UTF-8 (RFC 6531 §3.3)
const ATOM = "[A-Za-z0-9!#$%&'*+/=?^_`{|}~\\-\\u0080-\\uFFFF]+";
const DOT_STRING = new RegExp(`^${ATOM}(?:\\.${ATOM})*$`);
// qtextSMTP / quoted-pairSMTP (RFC 5321 §4.1.2)
const QUOTED_STRING = /^"(?:[\x20\x21\x23-\x5b\x5d-\x7e\u0080-\uFFFF]|\\[\x20-\x7e])*"$/;
const LABEL = /^(?:[A-Za-z0-9\u0080-\uFFFF](?:[A-Za-z0-9\u0080-\uFFFF-]{0,61}[A-Za-z0-9\u0080-\uFFFF])?)$/;
const IPV4_LITERAL = /^\[(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(?:\.(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}\]$/;
const IPV6_LITERAL = /^\[IPv6:[0-9A-Fa-f:.]{2,45}\]$/;
const NON_ASCII = /[^\x00-\x7f]/;

const utf8Length = (s: string) => new TextEncoder().encode(s).length;

export function parseMailbox(input: string): MailboxResult {
  if (/[\x00-\x1f\x7f]/.test(input)) return { ok: false, reason: "control character in address" };
  const at = input.lastIndexOf("@");
  if (at <= 0 || at === input.length - 1) return { ok: false, reason: "address must be local-part@domain" };
  const local = input.slice(0, at);
  const domain = input.slice(at + 1);
  if (!DOT_STRING.test(local) && !QUOTED_STRING.test(local)) {
    return { ok: false, reason: "malformed local part" };
  }
  if (!isDomain(domain)) return { ok: false, reason: "malformed domain" };
  if (utf8Length(local) > MAX_LOCAL) return { ok: false, reason: "local part longer than 64 octets" };
  if (utf8Length(domain) > MAX_DOMAIN) return { ok: false, reason: "domain longer than 255 octets" };
  if (utf8Length(input) > MAX_PATH) return { ok: false, reason: "address longer than 254 octets" };
  return {
    ok: true,
    mailbox: { local, domain, address: `${local}@${domain}`, utf8: NON_ASCII.test(input) },
  };
}

function isDomain(domain: string): boolean {
  if (domain.startsWith("[")) return IPV4_LITERAL.test(domain) || IPV6_LITERAL.test(domain);
  const labels = domain.split(".");
  return labels.every((label) => LABEL.test(label));
}

/** Splits at the last '@'. For addresses already validated by parseMailbox (or the null sender). */
export function splitAddress(address: string): { local: string; domain: string } {
  const at = address.lastIndexOf("@");
  if (at < 0) return { local: address, domain: "" };
  return { local: address.slice(0, at), domain: address.slice(at + 1) };
}
