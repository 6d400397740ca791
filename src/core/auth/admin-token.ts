// The admin API's shared secret. Both sides are hashed first so the comparison runs over equal
// lengths and leaks neither content nor the secret's length.

import { timingSafeEqual } from "./constant-time.ts";
import { sha256, utf8 } from "./digest.ts";

/** Shorter configured secrets are treated as unset: guessable must never mean open. */
export const ADMIN_TOKEN_MIN_LENGTH = 16;

export async function checkAdminToken(
  presented: string | null | undefined,
  expected: string | undefined,
): Promise<boolean> {
  if (expected === undefined || expected.length < ADMIN_TOKEN_MIN_LENGTH) return false;
  if (presented == null || presented.length === 0) return false;
  const [a, b] = await Promise.all([sha256(utf8(presented)), sha256(utf8(expected))]);
  return timingSafeEqual(a, b);
}
