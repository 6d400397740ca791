// A cache of recent successful password verifications, so that an app sending with Basic
// credentials does not pay a PBKDF2 derivation on every request. An entry is keyed by an HMAC
// (under a random per-isolate key) of the login, the account's current StoredKey and update time,
// and the presented password: a changed password or any account change misses at once, and a
// disabled account is refused before the cache is consulted. Failures are never cached.
import { bytesToBase64 } from "../encoding/base64.ts";
import { hmacSha256, utf8 } from "./digest.ts";

export interface VerificationCacheOptions {
  ttlMs?: number;
  maxEntries?: number;
  now?: () => number;
}

export class VerificationCache {
  readonly #entries = new Map<string, number>();
  // Made on first use: Workers forbid random values in global scope, where the cache is created.
  #key: Uint8Array | null = null;
  readonly #ttlMs: number;
  readonly #maxEntries: number;
  readonly #now: () => number;

  constructor(options: VerificationCacheOptions = {}) {
    this.#ttlMs = options.ttlMs ?? 60_000;
    this.#maxEntries = options.maxEntries ?? 10_000;
    this.#now = options.now ?? Date.now;
  }

  async #slot(login: string, version: string, password: string): Promise<string> {
    this.#key ??= crypto.getRandomValues(new Uint8Array(32));
    return bytesToBase64(await hmacSha256(this.#key, utf8(`${login}\0${version}\0${password}`)));
  }

  async has(login: string, version: string, password: string): Promise<boolean> {
    const slot = await this.#slot(login, version, password);
    const expires = this.#entries.get(slot);
    if (expires === undefined) return false;
    if (expires <= this.#now()) {
      this.#entries.delete(slot);
      return false;
    }
    return true;
  }

  /** `ttlMs` overrides the cache's default for this entry; 0 or less stores nothing. */
  async remember(login: string, version: string, password: string, ttlMs = this.#ttlMs): Promise<void> {
    if (ttlMs <= 0) return;
    if (this.#entries.size >= this.#maxEntries) {
      // Map keeps insertion order: drop the oldest entry.
      const oldest = this.#entries.keys().next().value;
      if (oldest !== undefined) this.#entries.delete(oldest);
    }
    this.#entries.set(await this.#slot(login, version, password), this.#now() + ttlMs);
  }

  get size(): number {
    return this.#entries.size;
  }
}
