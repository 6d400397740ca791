// Message-ID (RFC 5322 §3.6.4): msg-id = "<" id-left "@" id-right ">", without the obsolete forms.

const ATEXT = "[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]";
const DOT_ATOM_TEXT = `${ATEXT}+(?:\\.${ATEXT}+)*`;
const NO_FOLD_LITERAL = "\\[[\\x21-\\x5a\\x5e-\\x7e]*\\]";
const MSG_ID = new RegExp(`^<${DOT_ATOM_TEXT}@(?:${DOT_ATOM_TEXT}|${NO_FOLD_LITERAL})>$`);
const DOMAIN = new RegExp(`^${DOT_ATOM_TEXT}$`);

export function isMessageId(value: string): boolean {
  return MSG_ID.test(value);
}

/** `<32 random hex digits@domain>`; 128 random bits make collisions a non-issue without state. */
export function generateMessageId(domain: string): string {
  if (!DOMAIN.test(domain))
    throw new TypeError(`cannot make a Message-ID for domain ${JSON.stringify(domain)}`);
  const random = crypto.getRandomValues(new Uint8Array(16));
  return `<${Array.from(random, (byte) => byte.toString(16).padStart(2, "0")).join("")}@${domain}>`;
}
