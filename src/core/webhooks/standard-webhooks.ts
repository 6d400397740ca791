// Standard Webhooks (https://www.standardwebhooks.com): `webhook-id`, `webhook-timestamp` (unix
// seconds) and `webhook-signature` (space-separated `v1,<base64 HMAC-SHA256>`) over
// `{id}.{timestamp}.{body}`, keyed with the bytes of a `whsec_<base64>` secret. Svix (Clerk,
// Resend) is the same scheme under `svix-` header names. Verification tries every secret given
// (rotation) against every v1 signature in the header, in constant time, and refuses stale or
// future timestamps.
import { timingSafeEqual } from "../auth/constant-time.ts";
import { base64ToBytes, bytesToBase64 } from "../encoding/base64.ts";

/** The spec's recommended tolerance: a delivery older or newer than this is refused. */
export const TIMESTAMP_TOLERANCE_SECONDS = 5 * 60;
/**
 * How long a receiver remembers a webhook id. A timestamp may be up to the tolerance in the future
 * when first seen and is still valid the tolerance after that: keep it longer than both.
 */
export const SEEN_ID_RETENTION_MS = 3 * TIMESTAMP_TOLERANCE_SECONDS * 1000;

export type HeaderPrefix = "webhook" | "svix";

export type VerifyResult =
  | { ok: true; id: string; timestamp: number }
  | { ok: false; reason: string; code: VerifyFailure };

export type VerifyFailure =
  | "ERR_WEBHOOK_HEADERS"
  | "ERR_WEBHOOK_TIMESTAMP"
  | "ERR_WEBHOOK_SIGNATURE"
  | "ERR_WEBHOOK_SECRET";

const encoder = new TextEncoder();
/** The spec caps ids at 255 characters; they end up in a table key and in log lines. */
const MAX_ID_LENGTH = 255;

/**
 * The key bytes of a secret as the providers print it: `whsec_<base64>`, Supabase's
 * `v1,whsec_<base64>`, or the bare base64. Null when it is none of these.
 */
export function secretKey(secret: string): Uint8Array | null {
  const bare = secret
    .trim()
    .replace(/^v1,/, "")
    .replace(/^whsec_/, "");
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(bare)) return null;
  try {
    const bytes = base64ToBytes(bare);
    return bytes.length >= 16 ? bytes : null;
  } catch {
    return null;
  }
}

/** A fresh `whsec_` secret: 32 bytes from the CSPRNG. */
export function newWebhookSecret(): string {
  return `whsec_${bytesToBase64(crypto.getRandomValues(new Uint8Array(32)))}`;
}

async function hmac(key: Uint8Array, id: string, timestamp: string, body: Uint8Array): Promise<Uint8Array> {
  const cryptoKey = await crypto.subtle.importKey("raw", key, { name: "HMAC", hash: "SHA-256" }, false, [
    "sign",
  ]);
  const prefix = encoder.encode(`${id}.${timestamp}.`);
  const signed = new Uint8Array(prefix.length + body.length);
  signed.set(prefix);
  signed.set(body, prefix.length);
  return new Uint8Array(await crypto.subtle.sign("HMAC", cryptoKey, signed));
}

/** The `webhook-signature` value for one delivery: `v1,<base64>`. */
export async function signWebhook(
  secret: string,
  id: string,
  timestamp: number,
  body: Uint8Array | string,
): Promise<string> {
  const key = secretKey(secret);
  if (!key) throw new Error("not a whsec_ secret");
  const bytes = typeof body === "string" ? encoder.encode(body) : body;
  return `v1,${bytesToBase64(await hmac(key, id, String(timestamp), bytes))}`;
}

export async function verifyWebhook(input: {
  headers: Headers;
  body: Uint8Array;
  /** Every secret in force (more than one while rotating). */
  secrets: string[];
  prefix?: HeaderPrefix;
  nowSeconds?: number;
  toleranceSeconds?: number;
}): Promise<VerifyResult> {
  const prefix = input.prefix ?? "webhook";
  const id = input.headers.get(`${prefix}-id`);
  const timestamp = input.headers.get(`${prefix}-timestamp`);
  const signature = input.headers.get(`${prefix}-signature`);
  if (!id || !timestamp || !signature) {
    return fail("ERR_WEBHOOK_HEADERS", `missing ${prefix}-id, ${prefix}-timestamp or ${prefix}-signature`);
  }
  if (id.length > MAX_ID_LENGTH || !/^[\x21-\x7e]+$/.test(id)) {
    return fail("ERR_WEBHOOK_HEADERS", `${prefix}-id is not a printable token of at most 255 characters`);
  }
  if (!/^\d{1,12}$/.test(timestamp))
    return fail("ERR_WEBHOOK_TIMESTAMP", `${prefix}-timestamp is not unix seconds`);
  const seconds = Number(timestamp);
  const now = input.nowSeconds ?? Math.floor(Date.now() / 1000);
  const tolerance = input.toleranceSeconds ?? TIMESTAMP_TOLERANCE_SECONDS;
  if (Math.abs(now - seconds) > tolerance) {
    return fail("ERR_WEBHOOK_TIMESTAMP", `${prefix}-timestamp is outside the ${tolerance} s tolerance`);
  }
  const keys = input.secrets.map(secretKey).filter((k): k is Uint8Array => k !== null);
  if (keys.length === 0) return fail("ERR_WEBHOOK_SECRET", "no usable signing secret is configured");
  const offered: Uint8Array[] = [];
  for (const part of signature.split(" ")) {
    const comma = part.indexOf(",");
    if (comma < 0 || part.slice(0, comma) !== "v1") continue;
    try {
      offered.push(base64ToBytes(part.slice(comma + 1)));
    } catch {
      // a malformed entry is just not a match
    }
  }
  let matched = false;
  for (const key of keys) {
    const expected = await hmac(key, id, timestamp, input.body);
    // Every pair is compared, so the time taken does not tell which secret or entry matched.
    for (const candidate of offered) matched = timingSafeEqual(expected, candidate) || matched;
  }
  if (!matched) return fail("ERR_WEBHOOK_SIGNATURE", "no valid signature");
  return { ok: true, id, timestamp: seconds };
}

function fail(code: VerifyFailure, reason: string): VerifyResult {
  return { ok: false, code, reason };
}
