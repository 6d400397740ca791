// The SMTP listener's main.cf parameters (Postfix's smtpd_* names), part of PARAMETERS.
import type { Parameter } from "./parameters.ts";

export const SMTPD_PARAMETERS = {
  // Postern's listener is a submission service (master.cf's submission -o overrides are its defaults).
  smtpd_sasl_auth_enable: {
    default: "yes",
    postfix: "no",
    meaning: "Offer and accept AUTH on the SMTP listener.",
  },
  smtpd_tls_auth_only: {
    default: "no",
    meaning: "Neither announce nor accept AUTH before TLS is up (538 5.7.11 for AUTH without TLS).",
  },
  smtpd_tls_security_level: {
    default: "encrypt",
    postfix: "(empty: none)",
    meaning:
      "none, may (offer STARTTLS when the listener has a certificate) or encrypt (require it; implies smtpd_tls_auth_only).",
  },
  broken_sasl_auth_clients: {
    default: "no",
    meaning: "Also announce `AUTH=MECH ...`, the pre-RFC form old Outlook versions look for.",
  },
  smtpd_sasl_exceptions_networks: {
    default: "",
    meaning: "Client networks that are not offered AUTH (mynetworks syntax, !pattern excludes).",
  },
  smtpd_sasl_authenticated_header: {
    default: "no",
    meaning: "Add `(Authenticated sender: <login>)` to the Received: header.",
  },
  smtpd_error_sleep_time: {
    default: "1s",
    meaning: "Delay before each reply once a client made more than smtpd_soft_error_limit errors.",
  },
  smtpd_soft_error_limit: { default: "10", meaning: "Errors before replies are delayed." },
  smtpd_hard_error_limit: {
    default: "20",
    meaning: "Errors before the client is disconnected (421 4.7.0 ... Error: too many errors).",
  },
  smtpd_client_auth_rate_limit: {
    default: "0",
    meaning: "AUTH commands per client address per anvil_rate_time_unit; 0: no limit.",
  },
  anvil_rate_time_unit: { default: "60s", meaning: "The time unit of the *_rate_limit parameters." },
  smtpd_forbid_bare_newline: {
    default: "reject",
    postfix: "normalize",
    meaning:
      "SMTP smuggling defence. reject: a bare <LF> or <CR> in message content is answered with 521 5.5.2 and the connection closed, a command line ending in bare <LF> is refused; normalize (yes, note): bare <LF> counts as a line end but only <CR><LF>.<CR><LF> ends DATA; no: bare <LF> is a line end everywhere.",
  },
  smtpd_forbid_bare_newline_exclusions: {
    default: "$mynetworks",
    meaning: "Clients for whom smtpd_forbid_bare_newline is off.",
  },
  smtpd_forbid_bare_newline_reject_code: {
    default: "550",
    meaning: "Reply code for a command line ending in bare <LF> with smtpd_forbid_bare_newline = reject.",
  },
  smtpd_forbid_unauth_pipelining: {
    default: "yes",
    meaning:
      "Disconnect clients that send before the greeting or pipeline where RFC 2920 forbids it (554 5.5.0 Error: SMTP protocol synchronization).",
  },
  smtpd_helo_required: {
    default: "yes",
    postfix: "no",
    meaning: "Require HELO or EHLO before MAIL and AUTH (RFC 5321 §4.1.4 requires it of clients).",
  },
  smtpd_timeout: { default: "300s", meaning: "How long the SMTP listener waits for the client's next line." },
  smtpd_starttls_timeout: {
    default: "300s",
    meaning: "Time limit for the TLS handshake (STARTTLS or implicit TLS).",
  },
  smtpd_tls_cert_file: {
    default: "",
    meaning: "PEM certificate chain of the SMTP listener; empty: a self-signed one made in the data folder.",
  },
  smtpd_tls_key_file: { default: "$smtpd_tls_cert_file", meaning: "PEM private key of the SMTP listener." },
  smtpd_tls_CAfile: {
    default: "",
    meaning: "PEM CA certificates that client certificates are verified against (smtpd_tls_ask_ccert).",
  },
  smtpd_tls_ask_ccert: {
    default: "no",
    meaning:
      "Ask TLS clients for a certificate; one verified against smtpd_tls_CAfile can log in with EXTERNAL.",
  },
  smtpd_tls_req_ccert: {
    default: "no",
    meaning:
      "Require a verified client certificate once TLS is up (implies smtpd_tls_ask_ccert): 421 4.7.1 and disconnect without one.",
  },
  smtpd_tls_fingerprint_digest: {
    default: "sha256",
    meaning:
      "Digest of the client certificate fingerprints postern_tls_ccert_login_maps is keyed by (sha256, sha1, md5).",
  },
  postern_tls_ccert_login_maps: {
    default: "",
    meaning:
      "Verified client certificate -> login for EXTERNAL, keyed like check_ccert_access: the certificate fingerprint, then the public key fingerprint (AB:CD:... in smtpd_tls_fingerprint_digest).",
  },
} as const satisfies Record<string, Parameter>;
