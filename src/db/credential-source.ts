// The CredentialSource of the built-in SASL back end: account rows in D1 / SQLite. Disabled and
// unknown logins look the same to a mechanism (null), after the same work.

import { decodeScramRecord } from "../core/auth/scram-record.ts";
import { type KeyRing, openSecret } from "../core/auth/secret-box.ts";
import type { VerificationCache } from "../core/auth/verification-cache.ts";
import { verifyPassword } from "../core/auth/verify-password.ts";
import { base64ToBytes } from "../core/encoding/base64.ts";
import type { Account } from "../core/ports.ts";
import type { CredentialSource, ScramServerKeys } from "../core/sasl/mechanism.ts";
import type { DbAccountStore } from "./account-store.ts";

/** The context a shared secret is sealed under: bound to the login, so rows cannot be swapped. */
export const sharedSecretContext = (login: string) => `accounts:shared_secret:${login.toLowerCase()}`;

export class DbCredentialSource implements CredentialSource {
  readonly #accounts: DbAccountStore;
  readonly #keys: KeyRing | null;
  readonly #cache: VerificationCache | null;
  /** One lookup per login for the life of this object (a request or an SMTP session). */
  readonly #found = new Map<string, Promise<Account | null>>();

  readonly #cacheTtlMs: number;

  /** `cacheTtlMs` 0 bypasses the cache entirely (postern_verification_cache_time = 0). */
  constructor(
    accounts: DbAccountStore,
    keys: KeyRing | null,
    cache: VerificationCache | null = null,
    cacheTtlMs = 60_000,
  ) {
    this.#accounts = accounts;
    this.#keys = keys;
    this.#cache = cacheTtlMs > 0 ? cache : null;
    this.#cacheTtlMs = cacheTtlMs;
  }

  /** The usable account of a login: null when unknown or disabled. */
  account(login: string): Promise<Account | null> {
    let found = this.#found.get(login);
    if (!found) {
      found = this.#accounts.findByLogin(login).then((a) => (a && !a.disabled ? a : null));
      this.#found.set(login, found);
    }
    return found;
  }

  async scram(login: string, hash: "SHA-1" | "SHA-256"): Promise<ScramServerKeys | null> {
    const account = await this.account(login);
    if (!account) return null;
    const record = decodeScramRecord(account.scram);
    if (hash === "SHA-256") return record;
    if (!account.scram1) return null;
    return {
      salt: record.salt,
      iterations: record.iterations,
      storedKey: base64ToBytes(account.scram1.storedKey),
      serverKey: base64ToBytes(account.scram1.serverKey),
    };
  }

  async sharedSecret(login: string): Promise<string | null> {
    const account = await this.account(login);
    if (!account?.sealedSharedSecret || !this.#keys) return null;
    return openSecret(this.#keys, account.sealedSharedSecret, sharedSecretContext(account.login));
  }

  async verifyPassword(login: string, password: string): Promise<boolean> {
    const account = await this.account(login);
    const version = account ? `${account.updatedAt}:${account.scram.storedKey}` : "";
    if (account && this.#cache && (await this.#cache.has(account.login, version, password))) return true;
    const valid = await verifyPassword(account?.scram ?? null, password);
    if (account && valid) {
      await this.#cache?.remember(account.login, version, password, this.#cacheTtlMs);
      return true;
    }
    return false;
  }
}
