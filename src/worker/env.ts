// Bindings of the Workers runtime (wrangler.jsonc) and secrets (`wrangler secret put`).
export interface DeliveryJob {
  id: string;
  /** A wake-up for the event dispatcher (webhook endpoints), not a message. */
  events?: true;
}

export interface Env {
  DB: D1Database;
  BODIES: R2Bucket;
  DELIVERY: Queue<DeliveryJob>;
  /** Bearer secret of the admin API. Unset: the admin API is closed. */
  POSTERN_ADMIN_TOKEN?: string;
  /** Key ring for secrets at rest: `kid:base64key[,kid:base64key...]`, the first one current. */
  POSTERN_SECRET_KEY?: string;
}

declare global {
  namespace Cloudflare {
    interface GlobalProps {
      mainModule: typeof import("./index.ts");
    }
    interface Env {
      DB: D1Database;
      BODIES: R2Bucket;
      DELIVERY: Queue<DeliveryJob>;
      POSTERN_ADMIN_TOKEN?: string;
      POSTERN_SECRET_KEY?: string;
      TEST_MIGRATIONS?: unknown;
      TEST_SMARTHOST?: string;
      TEST_DOVECOT?: string;
      /** The client-app Worker of the RPC tests (vitest.config.ts). */
      CLIENT_APP?: Fetcher;
      TEST_WEBHOOK_RECEIVER?: string;
      TEST_UNTRUSTED_SMARTHOST?: string;
    }
  }
}
