// One message handed to a relay session, and what became of each of its recipients.

export interface RelayMessage {
  /** '' is the null sender (bounces). */
  mailFrom: string;
  recipients: string[];
  /** Octets of the message as stored, for SIZE= (RFC 1870). */
  size: number;
  /** Called once DATA is accepted; CRLF line endings, not yet dot-stuffed. */
  body: () => Promise<Uint8Array | ReadableStream<Uint8Array>>;
  /** RFC 6531: the envelope or headers carry UTF-8. Non-ASCII addresses imply it. */
  smtputf8?: boolean;
  /** RFC 6152: the body has 8-bit octets (BODY=8BITMIME when offered). */
  eightBit?: boolean;
  /** RFC 3461 parameters from the submission, passed on when the server offers DSN. */
  dsn?: RelayDsn;
}

export interface RelayDsn {
  ret: "FULL" | "HDRS" | null;
  /** Decoded; sent as xtext. */
  envid: string | null;
  /** Per recipient, aligned with `recipients`: NOTIFY ("NEVER" or a comma list) and ORCPT ("rfc822;addr"). */
  recipients: ({ notify: string | null; orcpt: string | null } | undefined)[];
}

export type DeliveryStatus = "sent" | "deferred" | "bounced";

export interface RecipientOutcome {
  recipient: string;
  status: DeliveryStatus;
  /** The server's reply ("250 2.0.0 Ok: queued as ABC") or Postfix's account of the failure. */
  reply: string;
  /** RFC 3463 status code. */
  dsn?: string;
}
