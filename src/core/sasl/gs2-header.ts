// The GS2 header that starts a SCRAM client-first message (RFC 5802 §7, RFC 5801 §4):
// gs2-cbind-flag "," [ "a=" saslname ] ",". The flag says whether the client uses channel binding
// (p=<type>), could but thinks the server cannot (y), or cannot (n). The header is echoed in c=.

import { decodeSaslName, encodeSaslName, type Parsed } from "./scram-messages.ts";

export type ChannelBindingFlag =
  | { kind: "n" }
  | { kind: "y" }
  /** The channel binding type the client uses (RFC 5056 cb-name): tls-exporter, tls-unique, ... */
  | { kind: "p"; type: string };

export interface Gs2Header {
  flag: ChannelBindingFlag;
  /** The authzid from a=, unescaped; null when absent. */
  authzid: string | null;
  /** The header exactly as sent, with its trailing comma: what c= must echo. */
  text: string;
}

const CB_NAME = /^[A-Za-z0-9.-]+$/;

/** Splits a client-first message into its GS2 header and the client-first-message-bare. */
export function parseGs2Header(message: string): Parsed<{ header: Gs2Header; bare: string }> {
  const first = message.indexOf(",");
  const second = first < 0 ? -1 : message.indexOf(",", first + 1);
  if (second < 0) return { ok: false, reason: "no GS2 header" };
  const flagText = message.slice(0, first);
  const authzText = message.slice(first + 1, second);
  let flag: ChannelBindingFlag;
  if (flagText === "n" || flagText === "y") flag = { kind: flagText };
  else if (flagText.startsWith("p=") && CB_NAME.test(flagText.slice(2)))
    flag = { kind: "p", type: flagText.slice(2) };
  else return { ok: false, reason: "bad channel binding flag" };
  let authzid: string | null = null;
  if (authzText.length > 0) {
    if (!authzText.startsWith("a=")) return { ok: false, reason: "bad authzid in GS2 header" };
    const decoded = decodeSaslName(authzText.slice(2));
    if (!decoded.ok) return { ok: false, reason: `authzid: ${decoded.reason}` };
    authzid = decoded.value;
  }
  return {
    ok: true,
    value: { header: { flag, authzid, text: message.slice(0, second + 1) }, bare: message.slice(second + 1) },
  };
}

export function formatGs2Header(flag: ChannelBindingFlag, authzid: string | null): string {
  const cb = flag.kind === "p" ? `p=${flag.type}` : flag.kind;
  return `${cb},${authzid ? `a=${encodeSaslName(authzid)}` : ""},`;
}
