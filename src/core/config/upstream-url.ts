// postern_upstream_url: where the SMTP adapter sends logins, passwords and messages. HTTPS, or
// plain HTTP only to this machine (a gateway on loopback), so credentials never cross a network
// in the clear; the gateway applies the same rule when it counts a request as TLS.

export type UpstreamUrlResult = { ok: true; url: URL } | { ok: false; reason: string };

export function parseUpstreamUrl(value: string): UpstreamUrlResult {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return { ok: false, reason: "not a URL (expected https://gateway.example)" };
  }
  if (url.username || url.password) return { ok: false, reason: "credentials do not belong in the URL" };
  if (url.search || url.hash) return { ok: false, reason: "expected no query or fragment" };
  if (url.protocol === "https:") return { ok: true, url };
  if (url.protocol === "http:") {
    if (isLoopback(url.hostname)) return { ok: true, url };
    return { ok: false, reason: "plain http:// only to a loopback address; use https://" };
  }
  return { ok: false, reason: `unsupported scheme ${url.protocol} (expected https://)` };
}

function isLoopback(hostname: string): boolean {
  return hostname === "localhost" || hostname === "[::1]" || /^127(?:\.\d{1,3}){3}$/.test(hostname);
}
