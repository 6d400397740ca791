// The one schema for D1 (Workers) and local SQLite (Node). Times are unix milliseconds.
import { sql } from "drizzle-orm";
import { index, integer, primaryKey, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";

/** SASL accounts. No plaintext or reversible password: only the SCRAM-SHA-256 record. */
export const accounts = sqliteTable(
  "accounts",
  {
    id: text("id").primaryKey(),
    /** The SASL login, with the realm of smtpd_sasl_local_domain appended when one is set. */
    login: text("login").notNull(),
    scramSalt: text("scram_salt").notNull(),
    scramIterations: integer("scram_iterations").notNull(),
    scramStoredKey: text("scram_stored_key").notNull(),
    scramServerKey: text("scram_server_key").notNull(),
    /** SCRAM-SHA-1 keys from the same password, salt and iterations (null: set before SHA-1 existed). */
    scram1StoredKey: text("scram1_stored_key"),
    scram1ServerKey: text("scram1_server_key"),
    /**
     * The plaintext-equivalent secret CRAM-MD5 and DIGEST-MD5 need, sealed with POSTERN_SECRET_KEY.
     * Null unless the account opted in: anyone who can read it and the key can log in as the account.
     */
    sharedSecret: text("shared_secret"),
    disabled: integer("disabled", { mode: "boolean" }).notNull().default(false),
    note: text("note"),
    createdAt: integer("created_at").notNull(),
    updatedAt: integer("updated_at").notNull(),
  },
  (t) => [uniqueIndex("accounts_login").on(sql`lower(${t.login})`)],
);

/**
 * Postfix-style lookup tables (`d1:<table>`): smtpd_sender_login_maps, check_sasl_access,
 * smtp_sasl_password_maps... Secret values are sealed (AES-GCM) and never listed.
 */
export const mapEntries = sqliteTable(
  "map_entries",
  {
    table: text("table_name").notNull(),
    /** Lower-cased, as Postfix folds keys of indexed tables. */
    key: text("key").notNull(),
    value: text("value").notNull(),
    secret: integer("secret", { mode: "boolean" }).notNull().default(false),
    updatedAt: integer("updated_at").notNull(),
  },
  (t) => [primaryKey({ columns: [t.table, t.key] })],
);

/** main.cf parameters set at run time (`postconf -e`); they override wrangler vars and defaults. */
export const settings = sqliteTable("settings", {
  name: text("name").primaryKey(),
  value: text("value").notNull(),
  updatedAt: integer("updated_at").notNull(),
});

export const messageStates = ["queued", "held", "discarded", "done"] as const;
export type MessageState = (typeof messageStates)[number];

/** One accepted message: its envelope sender, owner and where its body lives. */
export const messages = sqliteTable(
  "messages",
  {
    /** The queue id, as in Postfix log lines. */
    id: text("id").primaryKey(),
    accountId: text("account_id"),
    saslUsername: text("sasl_username"),
    saslMethod: text("sasl_method"),
    clientAddress: text("client_address").notNull(),
    mailFrom: text("mail_from").notNull(),
    bodyKey: text("body_key"),
    size: integer("size").notNull(),
    headerMessageId: text("header_message_id"),
    eightBit: integer("eight_bit", { mode: "boolean" }).notNull().default(false),
    smtputf8: integer("smtputf8", { mode: "boolean" }).notNull().default(false),
    /** DSN RET= (RFC 3461 §4.3) from the submission: FULL, HDRS, or null (not given). */
    dsnRet: text("dsn_ret", { enum: ["FULL", "HDRS"] }),
    /** DSN ENVID= (RFC 3461 §4.4), decoded. */
    dsnEnvid: text("dsn_envid"),
    /** queued: recipients left to deliver; held: waits for an admin; done: every recipient final. */
    state: text("state", { enum: messageStates }).notNull(),
    /** Why it is held or discarded (the access table's text). */
    stateReason: text("state_reason"),
    attempts: integer("attempts").notNull().default(0),
    nextAttemptAt: integer("next_attempt_at"),
    /** A delivery worker holds the message until then; others leave it alone. */
    leaseUntil: integer("lease_until"),
    createdAt: integer("created_at").notNull(),
    updatedAt: integer("updated_at").notNull(),
  },
  (t) => [
    index("messages_due").on(t.state, t.nextAttemptAt),
    index("messages_account").on(t.accountId, t.createdAt),
  ],
);

export const recipientStatuses = ["queued", "deferred", "sent", "bounced", "held", "discarded"] as const;
export type RecipientStatus = (typeof recipientStatuses)[number];

export const recipients = sqliteTable(
  "recipients",
  {
    messageId: text("message_id")
      .notNull()
      .references(() => messages.id, { onDelete: "cascade" }),
    position: integer("position").notNull(),
    address: text("address").notNull(),
    status: text("status", { enum: recipientStatuses }).notNull(),
    /** The remote reply (sent, bounced, deferred) or the local reason. */
    lastReply: text("last_reply"),
    /** DSN NOTIFY= (RFC 3461 §4.1): "NEVER" or a comma list of SUCCESS, FAILURE, DELAY; null: not given. */
    dsnNotify: text("dsn_notify"),
    /** DSN ORCPT= (RFC 3461 §4.2), decoded: `rfc822;user@example`. */
    dsnOrcpt: text("dsn_orcpt"),
    attempts: integer("attempts").notNull().default(0),
    updatedAt: integer("updated_at").notNull(),
  },
  (t) => [primaryKey({ columns: [t.messageId, t.position] })],
);

/** Every delivery attempt, per recipient, with what the smarthost said. */
export const deliveryAttempts = sqliteTable(
  "delivery_attempts",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    messageId: text("message_id")
      .notNull()
      .references(() => messages.id, { onDelete: "cascade" }),
    recipient: text("recipient").notNull(),
    relay: text("relay").notNull(),
    status: text("status", { enum: ["sent", "deferred", "bounced"] }).notNull(),
    reply: text("reply").notNull(),
    at: integer("at").notNull(),
  },
  (t) => [index("attempts_message").on(t.messageId, t.at)],
);

/**
 * Idempotency-Key answers (POST /v1/messages, /v1/messages/batch, RPC send), per account for 24 h.
 * A row is pending while its first request runs (token = that request's), then holds the answer
 * that every retry with the same key and body gets back.
 */
export const idempotencyKeys = sqliteTable(
  "idempotency_keys",
  {
    /** Whose key it is: `account:<id>`, `login:<name>` or `client:<address>`. */
    scope: text("scope").notNull(),
    key: text("key").notNull(),
    /** SHA-256 (hex) of what was asked: route, content type, query and body. */
    requestHash: text("request_hash").notNull(),
    /** The request that owns a pending row; only it may complete or release it. */
    token: text("token").notNull(),
    state: text("state", { enum: ["pending", "done"] }).notNull(),
    /** A pending row whose request died is taken over after this. */
    lockedUntil: integer("locked_until").notNull(),
    status: integer("status"),
    /** JSON object of the answer's headers. */
    headers: text("headers"),
    body: text("body"),
    createdAt: integer("created_at").notNull(),
    expiresAt: integer("expires_at").notNull(),
  },
  (t) => [primaryKey({ columns: [t.scope, t.key] }), index("idempotency_expiry").on(t.expiresAt)],
);

/**
 * Message templates of an account (webhook senders render them): `{{ name }}` placeholders,
 * HTML-escaped in `html`, verbatim in `subject` and `text`.
 */
export const templates = sqliteTable(
  "templates",
  {
    accountId: text("account_id")
      .notNull()
      .references(() => accounts.id, { onDelete: "cascade" }),
    name: text("name").notNull(),
    subject: text("subject").notNull(),
    text: text("text"),
    html: text("html"),
    createdAt: integer("created_at").notNull(),
    updatedAt: integer("updated_at").notNull(),
  },
  (t) => [primaryKey({ columns: [t.accountId, t.name] })],
);

export const receiverKinds = ["supabase", "clerk", "generic"] as const;
export type ReceiverKind = (typeof receiverKinds)[number];

/** Inbound webhooks (Supabase Send Email Hook, Clerk email.created, generic), each sending as one account. */
export const webhookReceivers = sqliteTable("webhook_receivers", {
  id: text("id").primaryKey(),
  accountId: text("account_id")
    .notNull()
    .references(() => accounts.id, { onDelete: "cascade" }),
  kind: text("kind", { enum: receiverKinds }).notNull(),
  /** The signing secrets (`whsec_...`, space-separated while rotating), sealed with POSTERN_SECRET_KEY. */
  secret: text("secret").notNull(),
  /** Kind-specific settings as JSON (from, templates, mapping). */
  config: text("config").notNull(),
  disabled: integer("disabled", { mode: "boolean" }).notNull().default(false),
  createdAt: integer("created_at").notNull(),
  updatedAt: integer("updated_at").notNull(),
});

/** webhook-id values already accepted per receiver: a replayed delivery sends nothing twice. */
export const webhookSeenIds = sqliteTable(
  "webhook_seen_ids",
  {
    receiverId: text("receiver_id").notNull(),
    webhookId: text("webhook_id").notNull(),
    seenAt: integer("seen_at").notNull(),
  },
  (t) => [primaryKey({ columns: [t.receiverId, t.webhookId] }), index("webhook_seen_at").on(t.seenAt)],
);

/** Where an account's delivery events go (Standard Webhooks, signed with a per-endpoint secret). */
export const webhookEndpoints = sqliteTable(
  "webhook_endpoints",
  {
    id: text("id").primaryKey(),
    accountId: text("account_id")
      .notNull()
      .references(() => accounts.id, { onDelete: "cascade" }),
    url: text("url").notNull(),
    /** `whsec_...`, sealed with POSTERN_SECRET_KEY. */
    secret: text("secret").notNull(),
    /** Space-separated event types; null: all of them. */
    events: text("events"),
    disabled: integer("disabled", { mode: "boolean" }).notNull().default(false),
    disabledReason: text("disabled_reason"),
    createdAt: integer("created_at").notNull(),
    updatedAt: integer("updated_at").notNull(),
  },
  (t) => [index("webhook_endpoints_account").on(t.accountId)],
);

export const outboxStates = ["pending", "delivered", "failed"] as const;

/** The durable event outbox: one row per event and endpoint, retried on the Standard Webhooks schedule. */
export const eventOutbox = sqliteTable(
  "event_outbox",
  {
    seq: integer("seq").primaryKey({ autoIncrement: true }),
    /** The webhook-id header: the same on every retry, so receivers dedupe on it. */
    id: text("id").notNull(),
    endpointId: text("endpoint_id")
      .notNull()
      .references(() => webhookEndpoints.id, { onDelete: "cascade" }),
    type: text("type").notNull(),
    payload: text("payload").notNull(),
    state: text("state", { enum: outboxStates }).notNull(),
    attempts: integer("attempts").notNull().default(0),
    nextAttemptAt: integer("next_attempt_at"),
    leaseUntil: integer("lease_until"),
    lastStatus: integer("last_status"),
    lastError: text("last_error"),
    createdAt: integer("created_at").notNull(),
    updatedAt: integer("updated_at").notNull(),
  },
  (t) => [index("event_outbox_due").on(t.state, t.nextAttemptAt), uniqueIndex("event_outbox_id").on(t.id)],
);

/**
 * OAuth 2.0 credentials for XOAUTH2 / OAUTHBEARER smarthosts (Microsoft 365, Gmail). A password
 * map entry `user:oauth2:<name>` points here. Secrets are sealed (AES-GCM, bound to the row) and
 * never listed; the access token is cached until it expires, a rotated refresh token replaces the old.
 */
export const relayOAuth2 = sqliteTable("relay_oauth2", {
  name: text("name").primaryKey(),
  tokenEndpoint: text("token_endpoint").notNull(),
  clientId: text("client_id").notNull(),
  clientSecret: text("client_secret"),
  refreshToken: text("refresh_token").notNull(),
  scope: text("scope"),
  accessToken: text("access_token"),
  accessTokenExpiresAt: integer("access_token_expires_at"),
  /** Bumped by every change an admin makes: a refresh that raced with it does not overwrite it. */
  version: integer("version").notNull().default(1),
  createdAt: integer("created_at").notNull(),
  updatedAt: integer("updated_at").notNull(),
});

/**
 * smtp_sasl_auth_cache_name: (server, username, credential) triples a smarthost refused with a 5xx,
 * so they are not tried again until the credential changes or the entry expires. The key is a
 * hash that includes the credential; the credential itself is not stored.
 */
export const saslAuthCache = sqliteTable("sasl_auth_cache", {
  key: text("key").primaryKey(),
  server: text("server").notNull(),
  username: text("username").notNull(),
  reply: text("reply").notNull(),
  createdAt: integer("created_at").notNull(),
  expiresAt: integer("expires_at").notNull(),
});
