// The address forms the JSON API accepts: "Name <user@example.com>", "user@example.com" or
// { email, name? }. The address itself must be an RFC 5321 mailbox (parseMailbox), because it is
// used for the envelope as well as the header.

import { parseMailbox } from "../mail/address.ts";
import { findUnsafeCharacter } from "./unsafe-character.ts";

export type AddressInput = string | { email: string; name?: string | undefined };

export interface Address {
  email: string;
  /** Display name; absent when empty. */
  name?: string;
}

export type AddressResult =
  | { ok: true; address: Address }
  | { ok: false; reason: string /** which property of the object form is wrong */; part?: "email" | "name" };

const NAME_ADDR = /^(.*?)<([^<>]*)>$/s;

export function parseAddressInput(input: AddressInput): AddressResult {
  let email: string;
  let name: string;
  if (typeof input === "string") {
    // checked before trimming, which would quietly drop a trailing CR LF or U+2028
    const unsafe = findUnsafeCharacter(input);
    if (unsafe) return { ok: false, reason: `address ${unsafe}` };
    const text = input.trim();
    const match = NAME_ADDR.exec(text);
    if (match) {
      name = unquote(match[1]!.trim());
      email = match[2]!;
    } else if (/[<>]/.test(text)) {
      return {
        ok: false,
        reason: 'malformed address: expected "Name <user@example.com>" or "user@example.com"',
      };
    } else {
      name = "";
      email = text;
    }
  } else {
    email = input.email;
    name = input.name ?? "";
  }
  // the object form can point at the property at fault; the string form is one value
  const fail = (reason: string, part: "email" | "name"): AddressResult =>
    typeof input === "string" ? { ok: false, reason } : { ok: false, reason, part };
  const badName = findUnsafeCharacter(name);
  if (badName) return fail(`display name ${badName}`, "name");
  const badEmail = findUnsafeCharacter(email);
  if (badEmail) return fail(`address ${badEmail}`, "email");
  const mailbox = parseMailbox(email);
  if (!mailbox.ok) return fail(mailbox.reason, "email");
  return { ok: true, address: name === "" ? { email } : { email, name } };
}

/** `"John \"JD\" Doe"` -> `John "JD" Doe` (RFC 5322 quoted-string); anything else as is. */
function unquote(name: string): string {
  if (name.length >= 2 && name.startsWith('"') && name.endsWith('"')) {
    return name.slice(1, -1).replace(/\\(.)/gs, "$1");
  }
  return name;
}
