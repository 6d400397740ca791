// Which URLs an account may register for its own event webhooks: HTTPS to a public host. An
// admin may register anything (a receiver on the local network, plain HTTP in a lab); an account
// must not point Postern's signed POSTs at the gateway's own loopback or private network.
import ipaddr from "ipaddr.js";

/** A reason the URL is refused, or null when an account may use it. */
export function selfServiceUrlProblem(value: string): string | null {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return "not a URL";
  }
  if (url.protocol !== "https:") return "must be https";
  if (url.username || url.password) return "must not carry credentials";
  const host = url.hostname.replace(/^\[|\]$/g, "").toLowerCase();
  if (
    host === "localhost" ||
    host.endsWith(".localhost") ||
    host.endsWith(".local") ||
    (!host.includes(".") && !host.includes(":"))
  ) {
    return "must name a public host";
  }
  if (ipaddr.isValid(host)) {
    let address = ipaddr.parse(host);
    if (address.kind() === "ipv6" && (address as ipaddr.IPv6).isIPv4MappedAddress()) {
      address = (address as ipaddr.IPv6).toIPv4Address();
    }
    if (address.range() !== "unicast") return `must not be a ${address.range()} address`;
  }
  return null;
}
