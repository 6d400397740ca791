// mynetworks (and any other Postfix network list): `a.b.c.d`, `a.b.c.d/n`, `[v6]`, `[v6]/n` (a bare
// v6 address is accepted too), `!pattern` excludes, the first match wins. Host names, /file/name
// and type:table patterns are not supported here; a typo must not silently trust nobody (or
// everybody), so anything unparsable is a configuration error at parse time.
import ipaddr from "ipaddr.js";
import { ConfigError } from "../config/settings.ts";

type IPv4 = ipaddr.IPv4;
type IPv6 = ipaddr.IPv6;

interface Pattern {
  /** `!pattern`: a match excludes the client. */
  readonly negate: boolean;
  readonly prefix: number;
  /** As written, for messages. */
  readonly source: string;
}

export type NetworkPattern =
  | (Pattern & { readonly family: "ipv4"; readonly network: IPv4 })
  | (Pattern & { readonly family: "ipv6"; readonly network: IPv6 });

export type NetworkList = readonly NetworkPattern[];

/** `parameter` names the setting in error messages (smtpd_sasl_exceptions_networks uses the same syntax). */
export function parseNetworkList(value: string, parameter = "mynetworks"): NetworkList {
  return value
    .split(/[\s,]+/)
    .filter((item) => item !== "")
    .map((item) => parsePattern(item, parameter));
}

function parsePattern(source: string, parameter: string): NetworkPattern {
  const negate = source.startsWith("!");
  const body = negate ? source.slice(1) : source;
  const invalid = (why: string) => new ConfigError(`${parameter}: bad pattern "${source}": ${why}`);

  let address: string;
  let prefixText: string | undefined;
  if (body.startsWith("[")) {
    const close = body.indexOf("]");
    if (close < 0) throw invalid(`missing "]"`);
    address = body.slice(1, close);
    const after = body.slice(close + 1);
    if (after !== "" && !after.startsWith("/")) throw invalid(`unexpected text after "]"`);
    prefixText = after === "" ? undefined : after.slice(1);
    if (!isIPv6(address)) throw invalid("only IPv6 addresses go inside []");
  } else {
    const slash = body.indexOf("/");
    address = slash < 0 ? body : body.slice(0, slash);
    prefixText = slash < 0 ? undefined : body.slice(slash + 1);
  }

  const family = isIPv4(address) ? "ipv4" : isIPv6(address) ? "ipv6" : null;
  if (!family) {
    throw invalid(
      "expected a.b.c.d[/n] or [ipv6][/n] (host names, /file/name and type:table are not supported)",
    );
  }
  const bits = family === "ipv4" ? 32 : 128;
  let prefix = bits;
  if (prefixText !== undefined) {
    if (!/^\d{1,3}$/.test(prefixText) || Number(prefixText) > bits)
      throw invalid(`bad prefix length "/${prefixText}"`);
    prefix = Number(prefixText);
  }

  if (family === "ipv4") {
    const network = ipaddr.IPv4.parse(address);
    checkHostBits(network, prefix, source, parameter, (net) => `${net}/${prefix}`);
    return { negate, family, network, prefix, source };
  }
  const network = ipaddr.IPv6.parse(address);
  checkHostBits(network, prefix, source, parameter, (net) => `[${net}]/${prefix}`);
  return { negate, family, network, prefix, source };
}

// As Postfix: "1.2.3.4/24" is a mistake (which was meant, the host or the /24?), not a /24.
function checkHostBits(
  network: IPv4 | IPv6,
  prefix: number,
  source: string,
  parameter: string,
  show: (net: string) => string,
): void {
  const cidr = `${network.toString()}/${prefix}`;
  const base =
    network.kind() === "ipv4"
      ? ipaddr.IPv4.networkAddressFromCIDR(cidr)
      : ipaddr.IPv6.networkAddressFromCIDR(cidr);
  if (base.toNormalizedString() !== network.toNormalizedString()) {
    throw new ConfigError(
      `${parameter}: non-null host address bits in "${source}", perhaps you should use "${show(base.toString())}" instead`,
    );
  }
}

/**
 * True when `ip` (the client's address as the socket reports it) is in the list. An IPv4 client
 * seen through an IPv4-mapped IPv6 socket (::ffff:192.0.2.1) matches IPv4 patterns, and an IPv4
 * client matches `[::ffff:...]` patterns: the same host either way.
 */
export function matchNetwork(list: NetworkList, ip: string): boolean {
  const client = parseClient(ip);
  if (!client) return false;
  for (const pattern of list) {
    const hit =
      pattern.family === "ipv4"
        ? client.v4?.match(pattern.network, pattern.prefix) === true
        : client.v6.match(pattern.network, pattern.prefix);
    if (hit) return !pattern.negate;
  }
  return false;
}

function parseClient(ip: string): { v4: IPv4 | null; v6: IPv6 } | null {
  const bare = ip.startsWith("[") && ip.endsWith("]") ? ip.slice(1, -1) : ip;
  if (isIPv4(bare)) {
    const v4 = ipaddr.IPv4.parse(bare);
    return { v4, v6: v4.toIPv4MappedAddress() };
  }
  if (!ipaddr.IPv6.isValid(bare)) return null;
  const v6 = ipaddr.IPv6.parse(bare);
  return { v4: v6.isIPv4MappedAddress() ? v6.toIPv4Address() : null, v6 };
}

const isIPv4 = (text: string) => ipaddr.IPv4.isValidFourPartDecimal(text);
// Zone ids (fe80::1%eth0) name an interface of this host; they have no place in a shared list.
const isIPv6 = (text: string) => !text.includes("%") && ipaddr.IPv6.isValid(text);
