// The server's answers to AUTH and CONT: `OK <id> [params]`, `CONT <id> <base64>`,
// `FAIL <id> [params]`. Other commands are ignored (Postfix); a known command that does not parse
// is garbage, which makes the whole connection untrustworthy.
import { base64ToBytes } from "../../encoding/base64.ts";
import { splitTabEscaped } from "./tab-escape.ts";

export type DovecotReply =
  | { kind: "ok"; id: number; user: string | null; final: Uint8Array | null }
  | { kind: "cont"; id: number; challenge: Uint8Array }
  /** `temp`: an internal failure (passdb down); `code` is Dovecot's failure code, if any. */
  | {
      kind: "fail";
      id: number;
      user: string | null;
      reason: string | null;
      code: string | null;
      temp: boolean;
    };

export type ParsedLine =
  | DovecotReply
  | { kind: "other"; command: string }
  | { kind: "garbage"; reason: string };

/** Request ids are unsigned 32-bit and never 0 (Dovecot refuses 0). */
export const MAX_REQUEST_ID = 0xffff_ffff;

const ID = /^[1-9]\d{0,9}$/;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

export function parseReply(line: string): ParsedLine {
  const [command = "", idField, ...rest] = splitTabEscaped(line);
  if (command !== "OK" && command !== "CONT" && command !== "FAIL") return { kind: "other", command };
  const id = parseId(idField);
  if (id === null) return { kind: "garbage", reason: `${command} without a valid request id` };

  if (command === "CONT") {
    const data = rest[0];
    if (data === undefined) return { kind: "garbage", reason: "CONT without data" };
    const challenge = decode(data);
    if (!challenge) return { kind: "garbage", reason: "CONT with invalid base64 data" };
    return { kind: "cont", id, challenge };
  }

  const params = parseParams(rest);
  const user = params.get("user") ?? null;
  if (command === "OK") {
    const resp = params.get("resp");
    const final = resp === undefined ? null : decode(resp);
    if (final === undefined) return { kind: "garbage", reason: "OK with invalid base64 data" };
    return { kind: "ok", id, user, final };
  }
  const code = params.get("code") ?? null;
  return {
    kind: "fail",
    id,
    user,
    reason: params.get("reason") ?? null,
    code,
    // "temp" until Dovecot 2.2; "code=temp_fail" since.
    temp: params.has("temp") || code === "temp_fail",
  };
}

function parseId(field: string | undefined): number | null {
  if (field === undefined || !ID.test(field)) return null;
  const id = Number(field);
  return id <= MAX_REQUEST_ID ? id : null;
}

/** `name=value` and bare boolean parameters; the first occurrence of a name wins. */
function parseParams(fields: readonly string[]): Map<string, string> {
  const params = new Map<string, string>();
  for (const field of fields) {
    const eq = field.indexOf("=");
    const name = eq === -1 ? field : field.slice(0, eq);
    if (!params.has(name)) params.set(name, eq === -1 ? "" : field.slice(eq + 1));
  }
  return params;
}

function decode(data: string): Uint8Array | undefined {
  return BASE64.test(data) ? base64ToBytes(data) : undefined;
}
