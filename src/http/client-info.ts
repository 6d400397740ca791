// Who is on the other end: Cloudflare puts the client address in CF-Connecting-IP (and overwrites
// any value a client sends). Without it the address is unknown and matches no network.
import type { ClientInfo } from "./services.ts";

export function clientInfo(headers: Headers): ClientInfo {
  const address = headers.get("cf-connecting-ip")?.trim() || "unknown";
  return { address, name: "unknown" };
}

/** Postfix's client=name[address] */
export function describeClient(client: ClientInfo): string {
  return `${client.name}[${client.address}]`;
}
