// The security flags Dovecot sends on each MECH line (auth protocol; Postfix's
// xsasl_dovecot_serv_sec_props), mapped onto the properties *_security_options filter on.
import type { MechanismProperties } from "../mechanism.ts";

/** A mechanism the Dovecot auth service offers, as the SASL layer sees it. */
export interface DovecotMechanism {
  name: string;
  properties: MechanismProperties;
}

const FLAG_PROPERTY = {
  plaintext: "plaintext",
  active: "active",
  dictionary: "dictionary",
  anonymous: "anonymous",
  "mutual-auth": "mutualAuth",
  "forward-secrecy": "forwardSecrecy",
} as const satisfies Record<string, keyof MechanismProperties>;

type Flag = keyof typeof FLAG_PROPERTY;

function isFlag(flag: string): flag is Flag {
  return Object.hasOwn(FLAG_PROPERTY, flag);
}

/**
 * The properties of a MECH line, or null for a "private" mechanism (one Dovecot's own services use,
 * never offered to clients). Flags match in any case and unknown ones are ignored, as Postfix does.
 * Dovecot has no flag for channel binding or EXTERNAL: those follow from the IANA name.
 */
export function mechanismFromFlags(name: string, flags: readonly string[]): DovecotMechanism | null {
  const properties: MechanismProperties = {
    plaintext: false,
    active: false,
    dictionary: false,
    anonymous: false,
    mutualAuth: false,
    forwardSecrecy: false,
    channelBinding: /-PLUS$/i.test(name),
    external: /^EXTERNAL$/i.test(name),
  };
  for (const raw of flags) {
    const flag = raw.toLowerCase();
    if (flag === "private") return null;
    if (isFlag(flag)) properties[FLAG_PROPERTY[flag]] = true;
  }
  return { name, properties };
}
