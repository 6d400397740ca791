// Name filters on the mechanism list, as Postfix and Cyrus SASL apply them.
//
// smtpd_sasl_mechanism_filter (Postfix 3.6, global/sasl_mech_filter.c): a match list of names
// separated by commas or whitespace, case-insensitive; the first pattern that matches decides,
// `!pattern` excludes, and a name no pattern matches is dropped. A `type:table` pattern matches
// when the lookup finds the name: `static:all` / `static:rest` find every name, so `!external,
// static:rest` is "everything but EXTERNAL". Other tables and /file/name patterns are not
// supported (the filter runs for every EHLO, without I/O) and are configuration errors. Empty:
// no filter.
//
// mech_list (Cyrus SASL's smtpd.conf): the mechanisms allowed, separated by whitespace and
// compared case-insensitively; names Postern does not implement (NTLM, GSSAPI) are ignored, as
// Cyrus ignores mechanisms it has no plugin for. Empty: all.
import { ConfigError } from "../config/settings.ts";

/** True when the filter lets the mechanism through. */
export type MechanismNameFilter = (name: string) => boolean;

/** RFC 4422 §3.1: 1 to 20 of A-Z, 0-9, "-" and "_" (compared here case-insensitively). */
const MECHANISM_NAME = /^[A-Za-z0-9_-]{1,20}$/;

type Pattern = { negate: boolean; matches: (upperName: string) => boolean };

function parsePattern(item: string, parameter: string): Pattern {
  let negate = false;
  let body = item;
  while (body.startsWith("!")) {
    negate = !negate;
    body = body.slice(1);
  }
  if (body === "") throw new ConfigError(`${parameter}: empty pattern in "${item}"`);
  if (body.startsWith("/")) {
    throw new ConfigError(`${parameter}: /file/name patterns are not supported: "${item}"`);
  }
  const colon = body.indexOf(":");
  if (colon >= 0) {
    const type = body.slice(0, colon).toLowerCase();
    if (type !== "static") {
      throw new ConfigError(`${parameter}: only static: tables are supported, not "${item}"`);
    }
    return { negate, matches: () => true };
  }
  if (!MECHANISM_NAME.test(body)) throw new ConfigError(`${parameter}: bad mechanism name "${item}"`);
  const upper = body.toUpperCase();
  return { negate, matches: (name) => name === upper };
}

/** Parses smtpd_sasl_mechanism_filter (or smtp_sasl_mechanism_filter); throws ConfigError. */
export function parseMechanismFilter(
  value: string,
  parameter = "smtpd_sasl_mechanism_filter",
): MechanismNameFilter {
  const patterns = value
    .split(/[\s,]+/)
    .filter((item) => item !== "")
    .map((item) => parsePattern(item, parameter));
  if (patterns.length === 0) return () => true;
  return (name) => {
    const upper = name.toUpperCase();
    const first = patterns.find((pattern) => pattern.matches(upper));
    return first !== undefined && !first.negate;
  };
}

/** Parses a Cyrus mech_list; throws ConfigError for a word that cannot be a mechanism name. */
export function parseMechList(value: string): MechanismNameFilter {
  const names = new Set<string>();
  for (const word of value.split(/\s+/)) {
    if (word === "") continue;
    // Cyrus splits on whitespace only: "PLAIN,LOGIN" would silently allow neither.
    if (!MECHANISM_NAME.test(word)) throw new ConfigError(`mech_list: bad mechanism name "${word}"`);
    names.add(word.toUpperCase());
  }
  if (names.size === 0) return () => true;
  return (name) => names.has(name.toUpperCase());
}
