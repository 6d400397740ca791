// From, Sender, To, Cc, Reply-To bodies (RFC 5322 §3.4): `phrase <addr>` or a bare addr-spec,
// comma-separated, folded between tokens. Display names are atoms when they can be, else a
// quoted-string, else (non-ASCII, or very long) RFC 2047 encoded-words (§5(3) allows them in a
// phrase). Addresses are never encoded: a non-ASCII address is UTF-8 (RFC 6532, SMTPUTF8).

import { encodeWords } from "./encoded-word.ts";
import { foldTokens } from "./header-fold.ts";

export interface MailboxText {
  email: string;
  name?: string | undefined;
}

const ATOMS = /^[A-Za-z0-9!#$%&'*+\-/=?^_`{|}~]+(?: [A-Za-z0-9!#$%&'*+\-/=?^_`{|}~]+)*$/;
const PRINTABLE_ASCII = /^[\x20-\x7e]*$/;
const MAX_QUOTED = 200; // longer names are encoded, so that they can fold

/** The tokens of a display-name phrase; each may go on its own folded line. */
export function formatPhrase(name: string): string[] {
  if (name.includes("=?")) return encodeWords(name); // keep it from being read as an encoded-word
  if (ATOMS.test(name)) return name.split(" ");
  if (PRINTABLE_ASCII.test(name) && name.length <= MAX_QUOTED) {
    return [`"${name.replace(/["\\]/g, "\\$&")}"`];
  }
  return encodeWords(name);
}

/** The folded body for `fieldName: ` + the mailbox list. */
export function formatMailboxList(fieldName: string, mailboxes: readonly MailboxText[]): string {
  const tokens: string[] = [];
  mailboxes.forEach((mailbox, index) => {
    const own = mailbox.name ? [...formatPhrase(mailbox.name), `<${mailbox.email}>`] : [mailbox.email];
    if (index < mailboxes.length - 1) own[own.length - 1] += ",";
    tokens.push(...own);
  });
  return foldTokens(fieldName.length + 2, tokens);
}
