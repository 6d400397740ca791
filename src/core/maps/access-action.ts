// access(5) results, parsed as Postfix's check_table_result() reads them: the first word is the
// action (case-insensitive), the rest is optional text, which may begin with an RFC 3463 enhanced
// status code that replaces the default (5.7.1 for rejects, 4.7.1 for deferrals; "ENHANCED STATUS
// CODES"). Anything else is a restriction list to apply in place.

export type AccessAction =
  | { kind: "ok" }
  | { kind: "dunno" }
  | { kind: "reject"; enhanced: string; text?: string }
  | { kind: "defer"; enhanced: string; text?: string }
  /** `4NN text` / `5NN text`. */
  | { kind: "code"; code: number; enhanced: string; text?: string }
  | { kind: "defer_if_permit"; enhanced: string; text?: string }
  | { kind: "defer_if_reject"; enhanced: string; text?: string }
  | { kind: "hold"; text?: string }
  | { kind: "discard"; text?: string }
  /** WARN / INFO: log the text and go on. */
  | { kind: "warn"; text?: string }
  | { kind: "info"; text?: string }
  /** The value is a list of restriction names (`permit_mynetworks, reject`), validated by the caller. */
  | { kind: "restrictions"; names: string[] }
  /** Postfix logs an error and answers 451 4.3.5 Server configuration error. */
  | { kind: "unknown"; value: string };

// RFC 3463 class.subject.detail as Postfix's dsn_valid() accepts it, followed by a blank or the end.
const ENHANCED = /^([245]\.\d{1,3}\.\d{1,3})(?:\s+|$)/;
const RESTRICTION_NAME = /^[A-Za-z0-9_]+$/;

export function parseAccessAction(value: string): AccessAction {
  const trimmed = value.trim();
  if (trimmed === "") return { kind: "unknown", value };
  const blank = trimmed.search(/\s/);
  const word = blank < 0 ? trimmed : trimmed.slice(0, blank);
  const rest = blank < 0 ? "" : trimmed.slice(blank).trim();
  const text = rest || undefined;

  switch (word.toUpperCase()) {
    case "OK":
    case "RELAY":
      return { kind: "ok" };
    case "DUNNO":
      return { kind: "dunno" };
    case "REJECT":
      return { kind: "reject", ...splitEnhanced(rest, "5.7.1") };
    case "DEFER":
      return { kind: "defer", ...splitEnhanced(rest, "4.7.1") };
    case "DEFER_IF_PERMIT":
      return { kind: "defer_if_permit", ...splitEnhanced(rest, "4.7.1") };
    case "DEFER_IF_REJECT":
      return { kind: "defer_if_reject", ...splitEnhanced(rest, "4.7.1") };
    case "HOLD":
      return { kind: "hold", text };
    case "DISCARD":
      return { kind: "discard", text };
    case "WARN":
      return { kind: "warn", text };
    case "INFO":
      return { kind: "info", text };
    // Actions that reroute or rewrite mail: not supported, and ignoring them would deliver mail the
    // admin meant to go elsewhere, so they fail closed.
    case "FILTER":
    case "REDIRECT":
    case "BCC":
    case "PREPEND":
    case "HANGUP":
      return { kind: "unknown", value };
  }
  // All-numerical is OK: address-based relay schemes (pop-before-smtp) store a time stamp.
  if (/^\d+$/.test(trimmed)) return { kind: "ok" };
  if (/^[45]\d\d$/.test(word) && rest !== "") {
    return { kind: "code", code: Number(word), ...splitEnhanced(rest, `${word[0]}.7.1`) };
  }
  // Postfix refuses lookup tables inside access maps (it wants a restriction class instead).
  if (trimmed.includes(":")) return { kind: "unknown", value };
  const names = trimmed.split(/[\s,]+/).filter((name) => name !== "");
  if (names.every((name) => RESTRICTION_NAME.test(name))) return { kind: "restrictions", names };
  return { kind: "unknown", value };
}

function splitEnhanced(text: string, fallback: string): { enhanced: string; text?: string } {
  const match = ENHANCED.exec(text);
  if (!match) return { enhanced: fallback, text: text || undefined };
  return { enhanced: match[1] as string, text: text.slice(match[0].length).trim() || undefined };
}
