// The keys Services derive from POSTERN_SECRET_KEY (HKDF, one per purpose), each derived once per
// isolate or process and then reused.
import { deriveContinuationKey } from "../core/auth/continuation.ts";
import { deriveKey } from "../core/auth/derive-key.ts";
import type { KeyRing } from "../core/auth/secret-box.ts";
import { deriveSessionKey } from "../core/auth/session-token.ts";
import type { Services } from "./services.ts";

type DerivedKey = (() => Promise<Uint8Array>) | null;

/** By purpose and key id; the secret is kept to tell apart rings that reuse a key id (tests, two runtimes). */
const cache = new Map<string, { secret: Uint8Array; key: Promise<Uint8Array> }>();

/** Null keys without a key ring: the features that need them are then off. */
export function derivedKeys(
  ring: KeyRing | null,
): Pick<Services, "sessionKey" | "continuationKey" | "standInKey"> {
  return {
    sessionKey: derived(ring, "session", deriveSessionKey),
    continuationKey: derived(ring, "continuation", deriveContinuationKey),
    standInKey: derived(ring, "stand-in", (secret) => deriveKey(secret, "postern scram stand-in v1")),
  };
}

function derived(
  ring: KeyRing | null,
  purpose: string,
  derive: (secret: Uint8Array) => Promise<Uint8Array>,
): DerivedKey {
  if (!ring) return null;
  const secret = ring.keys.get(ring.current)!;
  return () => {
    const id = `${purpose}:${ring.current}`;
    const cached = cache.get(id);
    if (cached && sameBytes(cached.secret, secret)) return cached.key;
    const key = derive(secret);
    cache.set(id, { secret, key });
    return key;
  };
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((byte, i) => byte === b[i]);
}
