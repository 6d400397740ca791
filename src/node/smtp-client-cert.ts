// Client certificates on the SMTP listener, with Postfix's parameters: smtpd_tls_ask_ccert asks
// for one, smtpd_tls_req_ccert requires a verified one (421 4.7.1 and disconnect without), and
// smtpd_tls_CAfile is what it is verified against. A verified certificate becomes a login for
// SASL EXTERNAL through postern_tls_ccert_login_maps, keyed as check_ccert_access and
// relay_clientcerts are: the certificate's fingerprint, then its public key's fingerprint
// (smtpd_tls_fingerprint_digest, "AB:CD:..."). EXTERNAL is offered only to such a client.
import { createHash, type X509Certificate } from "node:crypto";
import { readFileSync } from "node:fs";
import type tls from "node:tls";
import type { Settings } from "../core/config/settings.ts";
import type { LookupTable } from "../core/maps/lookup-table.ts";
import { printable } from "../core/printable.ts";

export interface ClientCertPolicy {
  /** Ask for a certificate during the handshake. */
  ask: boolean;
  /** Without a verified certificate the session ends once TLS is up. */
  require: boolean;
  /** The CAs from smtpd_tls_CAfile (null: none configured). */
  ca: Buffer | null;
  digest: "sha256" | "sha1" | "md5";
}

const DIGESTS = ["sha256", "sha1", "md5"] as const;

/** Reads the policy (and the CA file) at start and on reload; a bad setting stops either. */
export function clientCertPolicy(settings: Settings): ClientCertPolicy {
  const yes = (name: "smtpd_tls_ask_ccert" | "smtpd_tls_req_ccert") => {
    const value = settings.get(name).toLowerCase();
    if (value !== "yes" && value !== "no") throw new Error(`${name} = ${value}: expected yes or no`);
    return value === "yes";
  };
  const require = yes("smtpd_tls_req_ccert");
  const ask = require || yes("smtpd_tls_ask_ccert");
  const digest = settings.get("smtpd_tls_fingerprint_digest").toLowerCase() || "sha256";
  if (!(DIGESTS as readonly string[]).includes(digest)) {
    throw new Error(`smtpd_tls_fingerprint_digest = ${digest}: expected one of ${DIGESTS.join(", ")}`);
  }
  const caFile = settings.get("smtpd_tls_CAfile");
  if (ask && !caFile) {
    throw new Error(
      "smtpd_tls_ask_ccert / smtpd_tls_req_ccert need smtpd_tls_CAfile to verify certificates against",
    );
  }
  return {
    ask,
    require,
    ca: caFile ? readFileSync(caFile) : null,
    digest: digest as ClientCertPolicy["digest"],
  };
}

/** Options for the server side of a handshake: verification is ours to report, not a failed handshake. */
export function clientCertTlsOptions(policy: ClientCertPolicy): {
  requestCert: boolean;
  rejectUnauthorized: false;
} {
  return { requestCert: policy.ask, rejectUnauthorized: false };
}

export type ClientCertVerdict =
  /** identity: the login the certificate maps to, null when none (or no certificate was asked). */
  | { ok: true; identity: string | null; fingerprint: string | null }
  /** smtpd_tls_req_ccert and no verified certificate: Postfix's reason text. */
  | { ok: false; reason: "No client certificate presented" | "Client certificate not trusted" };

/** What the finished handshake says about the client's certificate. */
export async function clientCertVerdict(
  socket: tls.TLSSocket | null,
  policy: ClientCertPolicy,
  loginTable: () => LookupTable | null,
): Promise<ClientCertVerdict> {
  if (!policy.ask || !socket) return { ok: true, identity: null, fingerprint: null };
  const raw = socket.getPeerX509Certificate();
  if (!raw) {
    return policy.require ? { ok: false, reason: "No client certificate presented" } : ok(null, null);
  }
  if (!verified(socket)) {
    return policy.require ? { ok: false, reason: "Client certificate not trusted" } : ok(null, null);
  }
  const certificate = fingerprint(raw.raw, policy.digest);
  const table = loginTable();
  if (!table) return ok(null, certificate);
  const publicKey = fingerprint(publicKeyDer(raw), policy.digest);
  for (const key of [certificate, publicKey]) {
    const login = (await table.lookup(key))?.trim();
    if (login) return ok(printable(login, 256), certificate);
  }
  return ok(null, certificate);
}

/**
 * Whether OpenSSL verified the peer's chain against smtpd_tls_CAfile. tls.Server sets `authorized`
 * (implicit TLS); a TLSSocket wrapped around a plain socket for STARTTLS never does, so there we
 * read the verify result the way tls.Server itself does. Anything unexpected counts as unverified.
 */
function verified(socket: tls.TLSSocket): boolean {
  if (socket.authorized) return true;
  const handle = (socket as unknown as { _handle?: { verifyError?: () => Error | null } })._handle;
  return typeof handle?.verifyError === "function" && handle.verifyError() === null;
}

function ok(identity: string | null, fingerprint: string | null): ClientCertVerdict {
  return { ok: true, identity, fingerprint };
}

function publicKeyDer(certificate: X509Certificate): Buffer {
  return certificate.publicKey.export({ type: "spki", format: "der" });
}

/** Postfix's fingerprint form: the digest in upper-case hex pairs joined by colons. */
export function fingerprint(der: Buffer, digest: ClientCertPolicy["digest"]): string {
  const hex = createHash(digest).update(der).digest("hex").toUpperCase();
  return hex.match(/../g)!.join(":");
}
