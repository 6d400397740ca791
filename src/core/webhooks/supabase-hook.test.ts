import { describe, expect, it } from "vitest";
import { planSupabaseEmails } from "./supabase-hook.ts";

const user = { id: "u1", email: "current@example.com", user_metadata: { name: "Ann" } };
const data = {
  token: "111111",
  token_hash: "hash-new",
  redirect_to: "https://app.example.com/welcome",
  site_url: "https://ref.supabase.co",
};

describe("planSupabaseEmails", () => {
  it("signup: one mail to user.email with the verify link", () => {
    const plan = planSupabaseEmails(
      { user, email_data: { ...data, email_action_type: "signup" } },
      { supabaseUrl: "https://ref.supabase.co" },
    );
    expect(plan).toMatchObject({
      ok: true,
      emails: [
        {
          to: "current@example.com",
          template: "supabase-signup",
          variables: {
            token: "111111",
            token_hash: "hash-new",
            "user_metadata.name": "Ann",
            confirmation_url:
              "https://ref.supabase.co/auth/v1/verify?token=hash-new&type=signup&redirect_to=https%3A%2F%2Fapp.example.com%2Fwelcome",
          },
        },
      ],
    });
  });

  it("email_change with secure email change: token/token_hash to the new address, *_new to the current", () => {
    const plan = planSupabaseEmails(
      {
        user: { ...user, new_email: "new@example.com" },
        email_data: {
          ...data,
          email_action_type: "email_change",
          token_new: "222222",
          token_hash_new: "hash-current",
        },
      },
      {},
    );
    if (!plan.ok) throw new Error(plan.reason);
    expect(
      plan.emails.map((e) => [
        e.to,
        e.variables.token,
        e.variables.token_hash,
        e.variables.email_change_target,
      ]),
    ).toEqual([
      ["new@example.com", "111111", "hash-new", "new"],
      ["current@example.com", "222222", "hash-current", "current"],
    ]);
    // Without supabase_url the link is built on site_url.
    expect(plan.emails[1]!.variables.confirmation_url).toBe(
      "https://ref.supabase.co/auth/v1/verify?token=hash-current&type=email_change&redirect_to=https%3A%2F%2Fapp.example.com%2Fwelcome",
    );
  });

  it("email_change without secure email change: one mail, to the new address", () => {
    const plan = planSupabaseEmails(
      {
        user: { ...user, new_email: "new@example.com" },
        email_data: { ...data, email_action_type: "email_change" },
      },
      {},
    );
    expect(plan.ok && plan.emails.map((e) => e.to)).toEqual(["new@example.com"]);
  });

  it("reauthentication has a token and no link; custom template names apply", () => {
    const plan = planSupabaseEmails(
      { user, email_data: { token: "333333", email_action_type: "reauthentication" } },
      { templates: { reauthentication: "reauth" } },
    );
    expect(plan).toMatchObject({
      ok: true,
      emails: [{ template: "reauth", variables: { token: "333333", confirmation_url: "" } }],
    });
  });

  it("refuses payloads without user or action", () => {
    expect(planSupabaseEmails({ email_data: {} }, {})).toMatchObject({ ok: false });
    expect(planSupabaseEmails({ user, email_data: {} }, {})).toMatchObject({ ok: false });
    expect(planSupabaseEmails({ user, email_data: { email_action_type: "email_change" } }, {})).toEqual({
      ok: false,
      reason: "email_change without user.new_email",
    });
  });
});
