// SASLprep (RFC 4013), the stringprep profile for user names and passwords, through
// @mongodb-js/saslprep. RFC 3454 §7: stored strings refuse unassigned code points, queries may
// contain them (allowUnassigned). Expected failures are values; this never throws.
//
// The library normalizes with the runtime's Unicode version, not 3.2 as RFC 4013 pins; the two
// differ only on code points unassigned in 3.2, which stored strings refuse anyway.
import { saslprep as prepare } from "@mongodb-js/saslprep";

export type SaslprepResult = { ok: true; value: string } | { ok: false; reason: string };

export interface SaslprepOptions {
  /** True for queries (what a client typed), false for stored strings (RFC 3454 §7). */
  allowUnassigned: boolean;
}

// RFC 3454 table B.1, "commonly mapped to nothing" (RFC 4013 §2.2). The library fails with a
// TypeError when mapping leaves nothing, so an input made only of these is answered here. U+200B
// is in both B.1 and C.1.2; the library maps it to SPACE (§2.1 first), so it is left out here.
const MAPPED_TO_NOTHING = /\u00ad|\u034f|\u1806|[\u180b-\u180d]|\u200c|\u200d|\u2060|[\ufe00-\ufe0f]|\ufeff/g;

const REASONS = [
  [/^Prohibited character/, "prohibited character (RFC 4013 §2.3)"],
  [/^Unassigned code point/, "unassigned code point (RFC 4013 §2.5)"],
  [/RandALCat/, "mixed or misplaced right-to-left characters (RFC 3454 §6)"],
] as const;

export function saslprep(value: string, options: SaslprepOptions): SaslprepResult {
  if (value.replace(MAPPED_TO_NOTHING, "") === "") return { ok: true, value: "" };
  try {
    return { ok: true, value: prepare(value, { allowUnassigned: options.allowUnassigned }) };
  } catch (error) {
    const message = error instanceof Error ? error.message : "";
    const reason = REASONS.find(([pattern]) => pattern.test(message))?.[1] ?? "not a valid SASLprep string";
    return { ok: false, reason };
  }
}
