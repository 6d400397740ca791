// The main.cf parameters Postern understands: Postfix's names, Postern's defaults, and what they mean.
// The README's configuration reference is this table. A default differs from Postfix's only where a
// safer one is documented in `postfix`.

import { SMTPD_PARAMETERS } from "./smtpd-parameters.ts";
import { UPSTREAM_PARAMETERS } from "./upstream-parameters.ts";

export interface Parameter {
  readonly default: string;
  readonly meaning: string;
  /** Postfix's own default, when Postern deliberately differs. */
  readonly postfix?: string;
}

export const PARAMETERS = {
  myhostname: {
    default: "postern.localdomain",
    meaning: "This gateway's host name: EHLO name towards the smarthost and the Message-ID domain.",
  },
  mydomain: { default: "localdomain", meaning: "The gateway's domain (used in $mydomain expansions)." },
  mydestination: {
    default: "",
    postfix: "$myhostname, localhost.$mydomain, localhost",
    meaning:
      "Domains this gateway calls local. Postern never delivers locally, so empty: every recipient is a relay destination.",
  },
  relay_domains: {
    default: "",
    meaning: "Destinations anyone may send to without permission (reject_unauth_destination lets them pass).",
  },
  mynetworks: {
    default: "",
    postfix: "127.0.0.0/8 [::1]/128 (mynetworks_style = host)",
    meaning:
      "Trusted client networks for permit_mynetworks. Empty: on the HTTP front the client address comes from a proxy header, so nothing is trusted by address unless you say so.",
  },
  smtpd_sasl_local_domain: {
    default: "",
    meaning: "Realm appended to a login without one (alice -> alice@realm); also the check_sasl_access key.",
  },
  smtpd_sasl_type: {
    default: "postern",
    postfix: "cyrus",
    meaning:
      "Who verifies credentials: postern (built in; `cyrus` is taken to mean the same) or dovecot (an existing Dovecot auth service at smtpd_sasl_path).",
  },
  smtpd_sasl_path: {
    default: "",
    postfix: "smtpd",
    meaning: "With smtpd_sasl_type = dovecot: inet:host:port, or a UNIX socket path (Node only).",
  },
  smtpd_sasl_security_options: {
    default: "noanonymous, noplaintext",
    postfix: "noanonymous",
    meaning:
      "Mechanism policy without TLS (noplaintext, noactive, nodictionary, noanonymous, forward_secrecy, mutual_auth). Postern also refuses plaintext mechanisms without TLS.",
  },
  smtpd_sasl_tls_security_options: {
    default: "noanonymous",
    postfix: "$smtpd_sasl_security_options",
    meaning: "Mechanism policy once TLS is up (HTTPS, or loopback).",
  },
  smtpd_sasl_mechanism_filter: {
    default: "!external, static:rest",
    meaning: "Filters the offered mechanism names: names, !name to exclude, static:all / static:rest.",
  },
  mech_list: {
    default: "",
    meaning:
      "Cyrus-style allow-list of mechanism names (smtpd.conf's mech_list); empty: all that policy allows.",
  },
  smtpd_sasl_response_limit: {
    default: "12288",
    meaning: "Longest SASL response accepted, in bytes (500 5.5.6 / 413 beyond it).",
  },
  postern_sasl_authz_maps: {
    default: "d1:sasl_authz",
    meaning:
      "login -> identities it may act as (PLAIN authzid, SCRAM a=, OAUTHBEARER a=). Without an entry a login acts only as itself.",
  },
  postern_jwt_issuers: {
    default: "[]",
    meaning:
      "JSON list of trusted JWT issuers for Bearer, OAUTHBEARER and XOAUTH2: issuer, jwks_uri or keys, audiences, algorithms, login_claim, login_template.",
  },
  postern_verification_cache_time: {
    default: "60s",
    meaning:
      "How long a successful password verification (Basic, PLAIN, LOGIN) is remembered per isolate, keyed by login, credential and password; 0 turns the cache off.",
  },
  postern_session_token_lifetime: {
    default: "900s",
    meaning: "Lifetime of the session tokens issued by the SASL endpoint (at most 3600s).",
  },
  smtpd_sender_login_maps: {
    default: "d1:sender_login",
    postfix: "(empty)",
    meaning: "Envelope sender -> owning logins (user@domain, then user for local domains, then @domain).",
  },
  smtpd_sender_restrictions: {
    default: "reject_sender_login_mismatch",
    postfix: "(empty)",
    meaning:
      "Restrictions on MAIL FROM. Postern refuses senders a login does not own unless you say otherwise.",
  },
  smtpd_relay_restrictions: {
    default: "permit_mynetworks, permit_sasl_authenticated, reject_unauth_destination",
    postfix: "permit_mynetworks, permit_sasl_authenticated, defer_unauth_destination",
    meaning:
      "Relay permission, per recipient. Postern rejects (5xx) rather than defers unauthorized relaying.",
  },
  smtpd_recipient_restrictions: {
    default: "check_sasl_access d1:sasl_access",
    postfix: "(empty)",
    meaning: "Restrictions on RCPT TO, after the relay restrictions; per-login access actions by default.",
  },
  message_size_limit: {
    default: "10240000",
    meaning: "Largest message accepted, in bytes (5.3.4 above it).",
  },
  smtpd_recipient_limit: { default: "1000", meaning: "Most recipients in one message (4.5.3 above it)." },
  relayhost: {
    default: "",
    meaning:
      "The smarthost(s): [host]:port (brackets: no MX lookup); :submission = 587, :submissions = 465; several, comma or space separated, are tried in order; lmtp:[host]:port (or lmtp:unix:/path on Node) for LMTP. Empty: mail is deferred until one is set.",
  },
  sender_dependent_relayhost_maps: {
    default: "",
    meaning:
      "Per-sender override of relayhost, looked up by envelope sender, then @domain (<> for the null sender); DUNNO: use relayhost.",
  },
  smtp_destination_concurrency_limit: {
    default: "20",
    meaning:
      "Most sessions to one next hop at a time, across all delivery runs of the Node process (on Workers: per invocation); one run opens at most 4 (Workers allow 6 connections per invocation, R2 and D1 included).",
  },
  lmtp_lhlo_name: { default: "$myhostname", meaning: "LHLO name towards an lmtp: next hop." },
  lmtp_sasl_auth_enable: { default: "no", meaning: "Authenticate to an lmtp: next hop." },
  lmtp_sasl_password_maps: {
    default: "$smtp_sasl_password_maps",
    postfix: "(empty)",
    meaning: "username:password for an lmtp: next hop, keyed host, then the next hop as written.",
  },
  lmtp_tls_security_level: {
    default: "may",
    postfix: "(empty: none)",
    meaning: "none, may, encrypt, verify, secure towards an lmtp: next hop (as smtp_tls_security_level).",
  },
  // The lmtp_* twins of the client's SASL and TLS policy: Postfix's own defaults, spelled as the
  // smtp_* value so that one policy holds unless an lmtp: next hop is set apart.
  lmtp_tls_CAfile: {
    default: "$smtp_tls_CAfile",
    postfix: "(empty)",
    meaning: "smtp_tls_CAfile for an lmtp: next hop.",
  },
  lmtp_sasl_security_options: {
    default: "$smtp_sasl_security_options",
    postfix: "noplaintext, noanonymous",
    meaning: "smtp_sasl_security_options for an lmtp: next hop.",
  },
  lmtp_sasl_tls_security_options: {
    default: "$smtp_sasl_tls_security_options",
    postfix: "$lmtp_sasl_security_options",
    meaning: "smtp_sasl_tls_security_options for an lmtp: next hop.",
  },
  lmtp_sasl_tls_verified_security_options: {
    default: "$smtp_sasl_tls_verified_security_options",
    postfix: "$lmtp_sasl_tls_security_options",
    meaning: "smtp_sasl_tls_verified_security_options for an lmtp: next hop.",
  },
  lmtp_sasl_mechanism_filter: {
    default: "$smtp_sasl_mechanism_filter",
    postfix: "(empty)",
    meaning: "smtp_sasl_mechanism_filter for an lmtp: next hop.",
  },
  lmtp_sasl_auth_soft_bounce: {
    default: "$smtp_sasl_auth_soft_bounce",
    postfix: "yes",
    meaning: "smtp_sasl_auth_soft_bounce for an lmtp: next hop.",
  },
  lmtp_sasl_auth_cache_name: {
    default: "$smtp_sasl_auth_cache_name",
    postfix: "(empty)",
    meaning: "smtp_sasl_auth_cache_name for an lmtp: next hop.",
  },
  lmtp_sasl_auth_cache_time: {
    default: "$smtp_sasl_auth_cache_time",
    postfix: "90d",
    meaning: "smtp_sasl_auth_cache_time for an lmtp: next hop.",
  },
  lmtp_send_dummy_mail_auth: {
    default: "$smtp_send_dummy_mail_auth",
    postfix: "no",
    meaning: "smtp_send_dummy_mail_auth for an lmtp: next hop.",
  },
  lmtp_sasl_password_result_delimiter: {
    default: "$smtp_sasl_password_result_delimiter",
    postfix: ":",
    meaning: "smtp_sasl_password_result_delimiter for lmtp_sasl_password_maps.",
  },
  lmtp_connect_timeout: { default: "30s", postfix: "0s", meaning: "Connection set-up timeout (LMTP)." },
  lmtp_lhlo_timeout: { default: "300s", meaning: "Greeting and LHLO timeout (LMTP)." },
  lmtp_data_done_timeout: { default: "600s", meaning: "Timeout for the replies to the end of DATA (LMTP)." },
  smtp_helo_name: { default: "$myhostname", meaning: "EHLO name towards the smarthost." },
  smtp_sasl_auth_enable: { default: "no", meaning: "Authenticate to the smarthost." },
  smtp_sasl_password_maps: {
    default: "d1:sasl_passwd",
    meaning:
      "username:password: by sender, then @domain (with smtp_sender_dependent_authentication), then by host name, then by the next hop exactly as written ([host]:port, [host], host:port, host); sealed at rest.",
  },
  smtp_sender_dependent_authentication: {
    default: "no",
    meaning: "Look up smtp_sasl_password_maps by envelope sender (then @domain) before the next hop.",
  },
  smtp_sasl_password_result_delimiter: { default: ":", meaning: "Separates username and password." },
  smtp_sasl_security_options: {
    default: "noplaintext, noanonymous",
    meaning: "Client SASL policy without TLS: PLAIN/LOGIN are never sent in the clear.",
  },
  smtp_sasl_tls_security_options: {
    default: "noanonymous",
    postfix: "$smtp_sasl_security_options",
    meaning: "Client SASL policy once TLS is up: PLAIN/LOGIN allowed inside TLS.",
  },
  smtp_sasl_tls_verified_security_options: {
    default: "$smtp_sasl_tls_security_options",
    meaning: "Client SASL policy when TLS is up with a verified certificate (levels verify and secure).",
  },
  smtp_sasl_mechanism_filter: {
    default: "",
    meaning:
      "Which server-offered mechanisms the client may pick: names, !name, static:all / static:rest (e.g. `!cram-md5, static:all`). Empty: all.",
  },
  smtp_sasl_auth_soft_bounce: {
    default: "yes",
    meaning: "A 535 from the smarthost defers instead of bouncing.",
  },
  smtp_sasl_auth_cache_name: {
    default: "",
    meaning:
      "Set (e.g. `d1:sasl_auth_cache`) to remember credentials the smarthost refused with a 5xx and not try them again until they change; listed by the admin API.",
  },
  smtp_sasl_auth_cache_time: { default: "90d", meaning: "How long a refused credential is remembered." },
  smtp_send_dummy_mail_auth: {
    default: "no",
    meaning: "Send `AUTH=<>` with MAIL FROM once authenticated (for servers that want it).",
  },
  smtp_tls_security_level: {
    default: "may",
    postfix: "(empty: none)",
    meaning:
      "none; may (STARTTLS when offered, plaintext if it fails); encrypt (TLS required); verify / secure (TLS with a certificate that chains to a trusted CA and names the relay host). On Workers the certificate is always verified (see the README).",
  },
  smtp_tls_wrappermode: {
    default: "no",
    meaning: "Implicit TLS to the smarthost (port 465); implies at least encrypt.",
  },
  smtp_tls_CAfile: {
    default: "",
    meaning:
      "PEM file of CAs trusted for verify/secure, instead of the system's (Node only; Workers use their own trust store).",
  },
  smtp_connect_timeout: { default: "30s", meaning: "Connection set-up timeout towards the smarthost." },
  smtp_helo_timeout: { default: "300s", meaning: "Greeting and EHLO timeout." },
  smtp_data_done_timeout: { default: "600s", meaning: "Timeout for the reply to the end of DATA." },
  minimal_backoff_time: { default: "300s", meaning: "Shortest wait before retrying a deferred message." },
  maximal_backoff_time: { default: "4000s", meaning: "Longest wait between retries." },
  bounce_size_limit: {
    default: "50000",
    meaning: "A non-delivery report returns the whole original up to this many bytes, else only its headers.",
  },
  maximal_queue_lifetime: { default: "5d", meaning: "After this, a still-deferred recipient is bounced." },
  ...SMTPD_PARAMETERS,
  ...UPSTREAM_PARAMETERS,
} as const satisfies Record<string, Parameter>;

export type ParameterName = keyof typeof PARAMETERS;

export function isParameterName(name: string): name is ParameterName {
  return Object.hasOwn(PARAMETERS, name);
}
