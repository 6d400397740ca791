// The Supabase Auth "Send Email Hook": its JSON (`user`, `email_data`) -> the emails to send, each
// with the template to render and its variables. Supabase's own template variables are offered
// under snake_case names: token, token_hash, redirect_to, site_url, confirmation_url...
//
// email_change pairing (supabase/auth internal/api/mail.go): `token`/`token_hash` belong to the
// NEW address (user.new_email); with Secure Email Change on, a second pair `token_new`/
// `token_hash_new` belongs to the CURRENT address (user.email). Each address gets its own mail.

export interface SupabaseHookConfig {
  /** Project URL (https://<ref>.supabase.co): links go to {supabase_url}/auth/v1/verify. */
  supabaseUrl?: string | undefined;
  /** email_action_type -> template name; default `supabase-<type>`. */
  templates?: Record<string, string> | undefined;
}

export interface PlannedEmail {
  to: string;
  template: string;
  variables: Record<string, string>;
}

export type PlanResult = { ok: true; emails: PlannedEmail[] } | { ok: false; reason: string };

/** Types that carry an OTP and a verification link. */
const LINKED = new Set(["signup", "invite", "magiclink", "recovery", "email_change", "email"]);

export function templateNameFor(action: string, config: SupabaseHookConfig): string {
  return config.templates?.[action] ?? `supabase-${action}`;
}

export function planSupabaseEmails(payload: unknown, config: SupabaseHookConfig): PlanResult {
  if (!isObject(payload) || !isObject(payload.user) || !isObject(payload.email_data)) {
    return { ok: false, reason: "expected { user, email_data }" };
  }
  const user = payload.user;
  const data = payload.email_data;
  const action = str(data.email_action_type);
  if (!/^[a-z_]{1,64}$/.test(action)) return { ok: false, reason: "email_data.email_action_type is missing" };
  const email = str(user.email);
  const base: Record<string, string> = {
    email_action_type: action,
    site_url: str(data.site_url),
    redirect_to: str(data.redirect_to) || str(data.site_url),
    user_id: str(user.id),
    email,
    new_email: str(user.new_email),
    ...userMetadata(user.user_metadata),
  };
  const template = templateNameFor(action, config);
  const make = (to: string, token: string, tokenHash: string, target: string): PlannedEmail => ({
    to,
    template,
    variables: {
      ...base,
      recipient: to,
      email_change_target: target,
      token,
      token_hash: tokenHash,
      confirmation_url: LINKED.has(action) && tokenHash ? verifyLink(config, base, tokenHash, action) : "",
    },
  });

  if (action === "email_change") {
    const newEmail = str(user.new_email);
    if (!newEmail) return { ok: false, reason: "email_change without user.new_email" };
    const emails = [make(newEmail, str(data.token), str(data.token_hash), "new")];
    // Secure email change: the current address confirms too, with the *_new pair.
    if (str(data.token_hash_new) && email) {
      emails.push(make(email, str(data.token_new), str(data.token_hash_new), "current"));
    }
    return { ok: true, emails };
  }
  if (!email) return { ok: false, reason: "user.email is missing" };
  return { ok: true, emails: [make(email, str(data.token), str(data.token_hash), "")] };
}

function verifyLink(
  config: SupabaseHookConfig,
  base: Record<string, string>,
  tokenHash: string,
  type: string,
): string {
  const root = (config.supabaseUrl || base.site_url || "").replace(/\/+$/, "");
  const verify = root.endsWith("/auth/v1") ? `${root}/verify` : `${root}/auth/v1/verify`;
  const query = new URLSearchParams({ token: tokenHash, type, redirect_to: base.redirect_to ?? "" });
  return `${verify}?${query}`;
}

/** user_metadata's string and number values as `user_metadata.<key>`. */
function userMetadata(value: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (!isObject(value)) return out;
  for (const [key, v] of Object.entries(value)) {
    if ((typeof v === "string" || typeof v === "number") && /^[A-Za-z0-9_-]{1,64}$/.test(key)) {
      out[`user_metadata.${key}`] = String(v);
    }
  }
  return out;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

function str(value: unknown): string {
  return typeof value === "string" ? value : "";
}
