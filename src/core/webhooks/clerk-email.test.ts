import { describe, expect, it } from "vitest";
import { clerkEmail } from "./clerk-email.ts";

const event = (data: Record<string, unknown>, type = "email.created") => ({ object: "event", type, data });
const base = {
  to_email_address: "user@example.com",
  from_email_address: "notifications@accounts.example.com",
  subject: "123456 is your verification code",
  body: "<p>123456</p>",
  body_plain: "123456",
  delivered_by_clerk: false,
  slug: "verification_code",
};

describe("clerkEmail", () => {
  it("takes the rendered mail", () => {
    expect(clerkEmail(event(base))).toEqual({
      kind: "send",
      email: {
        to: "user@example.com",
        from: "notifications@accounts.example.com",
        subject: "123456 is your verification code",
        html: "<p>123456</p>",
        text: "123456",
      },
    });
  });
  it("ignores other events and mails Clerk delivers itself", () => {
    expect(clerkEmail(event(base, "user.created")).kind).toBe("ignore");
    expect(clerkEmail(event({ ...base, delivered_by_clerk: true })).kind).toBe("ignore");
  });
  it("refuses a mail without recipient or body", () => {
    expect(clerkEmail(event({ ...base, to_email_address: undefined })).kind).toBe("invalid");
    expect(clerkEmail(event({ ...base, body: "", body_plain: "" })).kind).toBe("invalid");
  });
});
