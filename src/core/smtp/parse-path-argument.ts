// The argument of MAIL and RCPT (RFC 5321 §4.1.1.2, §4.1.1.3): `FROM:<path> [params]` or
// `TO:<path> [params]`, with ESMTP parameters `keyword[=value]` separated by spaces (§4.1.2). Like
// Postfix with strict_rfc821_envelopes = no, a space after the colon and a path without angle
// brackets are accepted (old devices send both); a source route (`<@a,@b:user@c>`) is dropped
// (§4.1.1.3, appendix C). The address is returned as written: the caller checks it as a mailbox.

export interface EsmtpParameter {
  /** Upper-cased keyword. */
  keyword: string;
  /** The value as written (still xtext where the extension says so); null when absent. */
  value: string | null;
  /** The parameter as the client wrote it, for replies. */
  raw: string;
}

export type PathArgument =
  | { ok: true; address: string; params: EsmtpParameter[] }
  /** Not `KEYWORD:` followed by something. */
  | { ok: false; error: "syntax" }
  /** The path cannot be read. */
  | { ok: false; error: "address" }
  /** A malformed parameter, as written. */
  | { ok: false; error: "parameter"; raw: string };

// esmtp-keyword and esmtp-value (RFC 5321 §4.1.2), the value widened to UTF-8 (RFC 6531 §3.3).
const PARAMETER = /^([A-Za-z0-9][A-Za-z0-9-]*)(?:=([\x21-\x3c\x3e-\x7e\u0080-\uffff]+))?$/;

export function parsePathArgument(argument: string, keyword: "FROM" | "TO"): PathArgument {
  const prefix = `${keyword}:`;
  if (argument.slice(0, prefix.length).toUpperCase() !== prefix) return { ok: false, error: "syntax" };
  const rest = argument.slice(prefix.length).replace(/^[ \t]+/, "");
  if (rest === "") return { ok: false, error: "syntax" };

  let path: string;
  let after: string;
  if (rest.startsWith("<")) {
    const close = closingBracket(rest);
    if (close < 0) return { ok: false, error: "address" };
    path = rest.slice(1, close);
    after = rest.slice(close + 1);
    if (after !== "" && !/^[ \t]/.test(after)) return { ok: false, error: "address" };
  } else {
    const space = rest.search(/[ \t]/);
    path = space < 0 ? rest : rest.slice(0, space);
    after = space < 0 ? "" : rest.slice(space);
    if (path.includes("<") || path.includes(">")) return { ok: false, error: "address" };
  }

  if (path.startsWith("@")) {
    // A-d-l ":" Mailbox: the route names relays the client wants, which nobody honours any more.
    const colon = path.indexOf(":");
    if (colon < 0) return { ok: false, error: "address" };
    path = path.slice(colon + 1);
    if (path === "") return { ok: false, error: "address" };
  }

  const params: EsmtpParameter[] = [];
  for (const raw of after.split(/[ \t]+/)) {
    if (raw === "") continue;
    const match = PARAMETER.exec(raw);
    if (!match) return { ok: false, error: "parameter", raw };
    params.push({ keyword: match[1]!.toUpperCase(), value: match[2] ?? null, raw });
  }
  return { ok: true, address: path, params };
}

/** The index of the ">" closing the path, skipping quoted strings; -1 when there is none. */
function closingBracket(text: string): number {
  let quoted = false;
  for (let i = 1; i < text.length; i++) {
    const c = text[i];
    if (quoted && c === "\\") i++;
    else if (c === '"') quoted = !quoted;
    else if (c === ">" && !quoted) return i;
    else if (c === "<" && !quoted) return -1;
  }
  return -1;
}
