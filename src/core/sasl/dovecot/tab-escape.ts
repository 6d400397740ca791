// Dovecot's tab-escaping (lib/strescape.c, auth protocol "General"): \001 is the escape character,
// so a field can carry TAB, CR and LF without breaking the line-and-tab framing. Backslash is not
// special in this protocol.

const ESCAPE: Readonly<Record<string, string>> = {
  "\x00": "\x010",
  "\x01": "\x011",
  "\t": "\x01t",
  "\r": "\x01r",
  "\n": "\x01n",
};

const UNESCAPE: Readonly<Record<string, string>> = {
  "0": "\x00",
  "1": "\x01",
  t: "\t",
  r: "\r",
  n: "\n",
};

export function tabEscape(value: string): string {
  return value.replace(/[\x00\x01\t\r\n]/g, (char) => ESCAPE[char] ?? char);
}

/** Any other escaped character stands for itself; a trailing lone \001 is dropped, as Dovecot does. */
export function tabUnescape(value: string): string {
  if (!value.includes("\x01")) return value;
  return value.replace(/\x01([\s\S]?)/g, (_, char: string) => UNESCAPE[char] ?? char);
}

/** One protocol line split into its unescaped fields. */
export function splitTabEscaped(line: string): string[] {
  return line.split("\t").map(tabUnescape);
}
