// How to reach and talk to one smarthost, under the Postfix smtp(8) parameters they mirror.
import type { AuthCredentials } from "./authenticate.ts";
import type { ClientSaslPolicy } from "./client-sasl-policy.ts";

export type TlsSecurityLevel = "none" | "may" | "encrypt" | "verify" | "secure";

export interface RelayTimeouts {
  /** smtp_connect_timeout */
  connect: number;
  /** smtp_helo_timeout: the greeting and EHLO/HELO replies */
  greeting: number;
  /** smtp_starttls_timeout, smtp_mail_timeout, smtp_rcpt_timeout, smtp_data_init_timeout, ... */
  command: number;
  /** smtp_data_xfer_timeout per body write and smtp_data_done_timeout for the final reply */
  data: number;
}

export interface RelayOptions {
  host: string;
  port: number;
  /** LMTP (RFC 2033): LHLO instead of EHLO, one reply per recipient after the end of data. */
  protocol?: "smtp" | "lmtp";
  /** A UNIX-domain socket path instead of host and port (LMTP on Node). */
  path?: string;
  /** smtp_helo_name */
  heloName: string;
  /**
   * smtp_tls_security_level. may and encrypt take any certificate (where the runtime lets us);
   * verify and secure need one that chains to a trusted CA and names the host.
   */
  tlsLevel: TlsSecurityLevel;
  /** smtp_tls_wrappermode: implicit TLS (465) */
  wrapperMode: boolean;
  /** A smtp_sasl_password_maps entry (a password or an OAuth 2.0 access token); null: no AUTH. */
  auth: AuthCredentials | null;
  /** smtp_sasl_security_options and friends; Postern's defaults (no plaintext without TLS) when absent. */
  sasl?: ClientSaslPolicy;
  /** smtp_tls_CAfile: trusted CAs for verify/secure (Node only; Workers use their trust store). */
  caFile?: string;
  /** smtp_send_dummy_mail_auth: `AUTH=<>` on MAIL FROM once authenticated. */
  dummyMailAuth?: boolean;
  /** smtp_sasl_auth_soft_bounce, default true: a 5xx AUTH reply defers instead of bouncing. */
  authSoftBounce?: boolean;
  /** Milliseconds; tests inject short ones. */
  timeouts?: Partial<RelayTimeouts>;
}

/** Postfix's defaults, in milliseconds. */
export const DEFAULT_TIMEOUTS: RelayTimeouts = {
  connect: 30_000,
  greeting: 300_000,
  command: 300_000,
  data: 600_000,
};

export function resolveTimeouts(timeouts: Partial<RelayTimeouts> | undefined): RelayTimeouts {
  const resolved = { ...DEFAULT_TIMEOUTS };
  for (const key of Object.keys(DEFAULT_TIMEOUTS) as (keyof RelayTimeouts)[]) {
    const value = timeouts?.[key];
    if (value !== undefined && Number.isFinite(value) && value > 0) resolved[key] = value;
  }
  return resolved;
}
