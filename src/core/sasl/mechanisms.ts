// The MECHANISMS table: every SASL mechanism Postern implements, keyed by its IANA name, with the
// security properties Dovecot declares for it (reference/postfix-semantics.md). Policy
// (security-options.ts, mechanism-filter.ts) filters this table; nothing else decides what exists.
//
// To add a mechanism, import its MechanismSpec and append it to SPECS; its name must be listed in
// MECHANISM_NAMES, whose order is the announcement order. NTLM and GSSAPI are not implemented
// and never offered (NTLM is a proprietary, MD4-based scheme; a Cyrus mech_list naming them is
// accepted and they are simply absent).
import { ANONYMOUS } from "./anonymous.ts";
import { CRAM_MD5 } from "./cram-md5.ts";
import { DIGEST_MD5 } from "./digest-md5.ts";
import { EXTERNAL } from "./external.ts";
import { LOGIN } from "./login.ts";
import type { MechanismSpec } from "./mechanism.ts";
import { OAUTHBEARER } from "./oauthbearer.ts";
import { PLAIN } from "./plain.ts";
import { SCRAM_SHA_1, SCRAM_SHA_256, SCRAM_SHA_256_PLUS } from "./scram.ts";
import { XOAUTH2 } from "./xoauth2.ts";

/** Every IANA name Postern knows, strongest first: the order mechanisms are announced in. */
export const MECHANISM_NAMES = [
  "SCRAM-SHA-256-PLUS",
  "SCRAM-SHA-256",
  "SCRAM-SHA-1",
  "DIGEST-MD5",
  "CRAM-MD5",
  "OAUTHBEARER",
  "XOAUTH2",
  "PLAIN",
  "LOGIN",
  "EXTERNAL",
  "ANONYMOUS",
] as const;

export type MechanismName = (typeof MECHANISM_NAMES)[number];

const SPECS: readonly MechanismSpec[] = [
  SCRAM_SHA_256_PLUS,
  SCRAM_SHA_256,
  SCRAM_SHA_1,
  DIGEST_MD5,
  CRAM_MD5,
  OAUTHBEARER,
  XOAUTH2,
  PLAIN,
  LOGIN,
  EXTERNAL,
  ANONYMOUS,
];

export function isMechanismName(name: string): name is MechanismName {
  return (MECHANISM_NAMES as readonly string[]).includes(name);
}

function table(specs: readonly MechanismSpec[]): Readonly<Partial<Record<MechanismName, MechanismSpec>>> {
  const byName: Partial<Record<MechanismName, MechanismSpec>> = {};
  for (const spec of specs) {
    // A programming error, caught by the first test that imports this table.
    if (!isMechanismName(spec.name)) throw new Error(`${spec.name} is missing from MECHANISM_NAMES`);
    if (byName[spec.name]) throw new Error(`${spec.name} is in MECHANISMS twice`);
    byName[spec.name] = spec;
  }
  return Object.freeze(byName);
}

/** The implemented mechanisms by IANA name; a name without a spec is not implemented (yet). */
export const MECHANISMS = table(SPECS);

/** The implemented mechanism a client named (AUTH's argument is case-insensitive, RFC 4954 §4). */
export function findMechanism(name: string): MechanismSpec | undefined {
  const upper = name.toUpperCase();
  return isMechanismName(upper) ? MECHANISMS[upper] : undefined;
}

/** The implemented mechanisms, strongest first. */
export function allMechanisms(): MechanismSpec[] {
  return MECHANISM_NAMES.flatMap((name) => MECHANISMS[name] ?? []);
}
