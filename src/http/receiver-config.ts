// What each kind of webhook receiver is configured with (stored as JSON on the receiver row).
import { z } from "zod";
import { checkMapping } from "../core/webhooks/generic-mapping.ts";

const templateName = z.string().regex(/^[A-Za-z0-9_.-]{1,100}$/, "letters, digits, '_', '.', '-'");
const url = z.url({ protocol: /^https?$/ });

export const supabaseConfig = z.strictObject({
  /** The From of every auth mail: an address the account owns. */
  from: z.string().min(3).max(998),
  /** https://<ref>.supabase.co: confirmation links go to {supabase_url}/auth/v1/verify. */
  supabase_url: url.optional(),
  /** email_action_type -> template name (default supabase-<type>, then the built-in text). */
  templates: z.record(z.string().regex(/^[a-z_]{1,64}$/), templateName).optional(),
});

export const clerkConfig = z.strictObject({
  /** Replaces Clerk's from_email_address (which may be an address the account does not own). */
  from: z.string().min(3).max(998).optional(),
});

const pointer = z.string().max(1000);
export const genericConfig = z
  .strictObject({
    from: z.string().min(3).max(998).optional(),
    template: templateName.optional(),
    mapping: z.strictObject({
      to: pointer,
      from: pointer.optional(),
      subject: pointer.optional(),
      template: pointer.optional(),
      variables: z.record(z.string(), pointer).optional(),
    }),
  })
  .superRefine((config, ctx) => {
    for (const problem of checkMapping(config.mapping))
      ctx.addIssue({ code: "custom", message: problem, path: ["mapping"] });
    if (!config.from && !config.mapping.from)
      ctx.addIssue({ code: "custom", message: "from or mapping.from is required" });
    if (!config.template && !config.mapping.template) {
      ctx.addIssue({ code: "custom", message: "template or mapping.template is required" });
    }
  });

export type SupabaseConfig = z.infer<typeof supabaseConfig>;
export type ClerkConfig = z.infer<typeof clerkConfig>;
export type GenericConfig = z.infer<typeof genericConfig>;

export const receiverConfigs = {
  supabase: supabaseConfig,
  clerk: clerkConfig,
  generic: genericConfig,
} as const;
