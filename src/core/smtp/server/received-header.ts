// The Received: header the server prepends (RFC 5321 §4.4, RFC 5322 §3.6.7), in Postfix's shape:
//
//   Received: from c.example (client.example [192.0.2.1])
//   	(Authenticated sender: alice)
//   	by mx.example (Postern) with ESMTPSA id 01J...
//   	for <bob@example.net>; Tue, 01 Jul 2025 09:05:00 +0000
//
// "for" only with a single recipient (more would disclose Bcc recipients to each other); the
// authenticated-sender comment only with smtpd_sasl_authenticated_header = yes.
import { formatRfc5322Date } from "../../message/rfc5322-date.ts";
import { printable } from "../../printable.ts";
import type { ClientInfo, Envelope } from "./session-ports.ts";

export interface ReceivedInput {
  /** The HELO/EHLO name; null when the client sent none. */
  helo: string | null;
  client: ClientInfo;
  /** The SASL login to show, or null. */
  authenticatedSender: string | null;
  /** myhostname. */
  hostname: string;
  protocol: Envelope["protocol"];
  queueId: string;
  recipients: readonly string[];
  date: Date;
}

export function receivedHeader(input: ReceivedInput): string {
  const { client } = input;
  // RFC 5321 §4.1.3 address literal: IPv6 addresses carry the "IPv6:" tag.
  const literal = client.address.includes(":") ? `IPv6:${client.address}` : client.address;
  const helo = printable(input.helo ?? client.name, 255);
  const lines = [`Received: from ${helo} (${printable(client.name)} [${literal}])`];
  if (input.authenticatedSender !== null) {
    lines.push(`\t(Authenticated sender: ${printable(input.authenticatedSender)})`);
  }
  const by = `\tby ${input.hostname} (Postern) with ${input.protocol} id ${input.queueId}`;
  const date = formatRfc5322Date(input.date);
  if (input.recipients.length === 1) {
    lines.push(by, `\tfor <${input.recipients[0]}>; ${date}`);
  } else {
    lines.push(`${by};`, `\t${date}`);
  }
  return `${lines.join("\r\n")}\r\n`;
}
