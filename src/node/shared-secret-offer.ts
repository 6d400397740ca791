// CRAM-MD5 and DIGEST-MD5 on the SMTP listener only while some account keeps a shared secret
// (see core/sasl/shared-secret-mechanisms.ts). The answer is cached briefly: EHLO must not cost a
// query each.
import { allMechanisms } from "../core/sasl/mechanisms.ts";
import { withoutSharedSecretMechanisms } from "../core/sasl/shared-secret-mechanisms.ts";

const CACHE_MS = 10_000;

export type EnabledFilter = (
  enabled: readonly string[] | undefined,
) => Promise<readonly string[] | undefined>;

/** Filters a back end's mechanism list (undefined: the whole table) by whether secrets exist. */
export function sharedSecretOffer(anySharedSecret: () => Promise<boolean>, now = Date.now): EnabledFilter {
  let cached: { value: Promise<boolean>; until: number } | null = null;
  const any = () => {
    if (!cached || now() >= cached.until) {
      const value = anySharedSecret();
      cached = { value, until: now() + CACHE_MS };
      // A failed lookup is not remembered.
      value.catch(() => {
        cached = null;
      });
    }
    return cached.value;
  };
  return async (enabled) => {
    if (await any()) return enabled;
    const names = enabled ?? allMechanisms().map((spec) => spec.name);
    return withoutSharedSecretMechanisms(names);
  };
}
