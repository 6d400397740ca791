// The postconf overrides, cached for a moment per process: every SMTP connection, HTTP request
// and delivery batch reads the settings, and on Node that is a SQLite query each time. A write
// through this store (the admin API's postconf -e / -X) drops the cache at once, so the next
// session sees it; the short lifetime bounds how late a write by anything else is seen.
import type { RawSettings } from "../core/config/settings.ts";
import type { Database } from "../db/database.ts";
import { DbSettingsStore } from "../db/settings-store.ts";

const DEFAULT_TTL_MS = 1_000;

export class CachedSettingsStore extends DbSettingsStore {
  readonly #ttlMs: number;
  readonly #now: () => number;
  #cached: { until: number; value: Promise<RawSettings> } | null = null;

  constructor(db: Database, options: { ttlMs?: number; now?: () => number } = {}) {
    super(db);
    this.#ttlMs = options.ttlMs ?? DEFAULT_TTL_MS;
    this.#now = options.now ?? Date.now;
  }

  override load(): Promise<RawSettings> {
    const now = this.#now();
    if (this.#cached && this.#cached.until > now) return this.#cached.value;
    const value = super.load();
    const entry = { until: now + this.#ttlMs, value };
    this.#cached = entry;
    value.catch(() => {
      if (this.#cached === entry) this.#cached = null;
    });
    return value;
  }

  override async set(name: string, value: string): Promise<void> {
    this.#invalidate();
    try {
      await super.set(name, value);
    } finally {
      this.#invalidate();
    }
  }

  override async delete(name: string): Promise<boolean> {
    this.#invalidate();
    try {
      return await super.delete(name);
    } finally {
      this.#invalidate();
    }
  }

  #invalidate(): void {
    this.#cached = null;
  }
}
