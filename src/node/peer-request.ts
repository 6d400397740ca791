// What the HTTP app may believe about a request on Node, where nothing sits in front of it: the
// client address is the socket's (Cloudflare's CF-Connecting-IP is a header anyone can send here),
// and a request naming a loopback host must come from loopback, because the app treats loopback as
// confidential (credentials over plain HTTP, src/http/transport.ts) and the URL's host is just the
// client's Host header.
import net from "node:net";
import { isConfidential } from "../http/transport.ts";

/** The peer address as policy matches it: IPv4 clients of a dual-stack socket come as ::ffff:a.b.c.d. */
export function peerAddress(remote: string | undefined): string {
  if (!remote) return "unknown";
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(remote);
  return mapped ? mapped[1]! : remote;
}

export function isLoopbackAddress(address: string): boolean {
  if (net.isIPv4(address)) return address.startsWith("127.");
  return address === "::1";
}

/**
 * True when a plain-HTTP request claims a loopback host (and with it the confidentiality of
 * loopback) while its peer is elsewhere: a Host header forged to get Basic credentials accepted
 * over cleartext.
 */
export function forgesLoopback(url: URL, peer: string): boolean {
  return url.protocol === "http:" && isConfidential(url) && !isLoopbackAddress(peer);
}
