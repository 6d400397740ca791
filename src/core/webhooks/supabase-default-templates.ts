// What a Supabase hook sends when the account has no template of its own for an action type:
// plain wording after Supabase's default mails, so the hook works before any template is written.
import type { TemplateParts } from "./template.ts";

const link = (intro: string, action: string): TemplateParts => ({
  subject: intro,
  text: `${intro}\n\nFollow this link to ${action}:\n{{ confirmation_url }}\n\nOr enter this code: {{ token }}\n`,
  html: `<h2>${intro}</h2>\n<p>Follow this link to ${action}:</p>\n<p><a href="{{ confirmation_url }}">${intro}</a></p>\n<p>Or enter this code: {{ token }}</p>\n`,
});

export const SUPABASE_DEFAULT_TEMPLATES: Readonly<Record<string, TemplateParts>> = {
  signup: link("Confirm your signup", "confirm your email address"),
  invite: link("You have been invited", "accept the invite"),
  magiclink: link("Your magic link", "log in"),
  email: link("Your login code", "log in"),
  recovery: link("Reset your password", "reset your password"),
  email_change: link(
    "Confirm your email change",
    "confirm the change of your email address to {{ new_email }}",
  ),
  reauthentication: {
    subject: "Confirm reauthentication",
    text: "Enter this code to confirm it is you: {{ token }}\n",
    html: "<h2>Confirm reauthentication</h2>\n<p>Enter this code: {{ token }}</p>\n",
  },
};

/** Security notifications (password_changed_notification...): a short notice without a link. */
export const SUPABASE_NOTIFICATION_TEMPLATE: TemplateParts = {
  subject: "Security notice for your account",
  text: "A change was made to your account ({{ email_action_type }}). If it was not you, contact support.\n",
  html: "<p>A change was made to your account ({{ email_action_type }}). If it was not you, contact support.</p>\n",
};

export function defaultSupabaseTemplate(action: string): TemplateParts | null {
  return (
    SUPABASE_DEFAULT_TEMPLATES[action] ??
    (action.endsWith("_notification") ? SUPABASE_NOTIFICATION_TEMPLATE : null)
  );
}
