import { describe, expect, it } from "vitest";
import { type GatewayProblem, parseReply, replyForProblem } from "./gateway-reply.ts";

const FALLBACK = { code: 451, enhanced: "4.3.0", text: "Error: queue file write error" };
const problem = (fields: Partial<GatewayProblem>): GatewayProblem => ({
  status: 400,
  slug: null,
  detail: null,
  smtpReply: null,
  smtpStatus: null,
  ...fields,
});

describe("replyForProblem: gateway problems as SMTP replies", () => {
  it.each([
    {
      name: "a policy refusal keeps Postfix's reply",
      input: problem({
        status: 403,
        slug: "rejected",
        smtpReply: "553 5.7.1 <b@x>: Sender address rejected: not owned by user a@x",
        smtpStatus: "5.7.1",
      }),
      sentToken: true,
      want: { code: 553, enhanced: "5.7.1", text: "<b@x>: Sender address rejected: not owned by user a@x" },
    },
    {
      name: "a deferral (503 with a 4xx reply) stays 4xx",
      input: problem({
        status: 503,
        slug: "deferred",
        smtpReply: "450 4.7.1 <a@x>: SASL login name rejected: Access denied",
      }),
      sentToken: true,
      want: { code: 450, enhanced: "4.7.1", text: "<a@x>: SASL login name rejected: Access denied" },
    },
    {
      name: "an HTTP 5xx never becomes an SMTP 5xx",
      input: problem({
        status: 500,
        slug: "internal-error",
        smtpReply: "554 5.3.0 whatever",
        smtpStatus: "5.3.0",
      }),
      sentToken: true,
      want: FALLBACK,
    },
    {
      name: "an HTTP 5xx without a body: the fallback",
      input: problem({ status: 502 }),
      sentToken: false,
      want: FALLBACK,
    },
    {
      name: "our token refused: authenticate again (4xx), not 535",
      input: problem({
        status: 401,
        slug: "authentication-failed",
        smtpReply: "535 5.7.8 Error: authentication failed: authentication failure",
      }),
      sentToken: true,
      want: {
        code: 451,
        enhanced: "4.7.0",
        text: "Error: authentication expired or revoked; authenticate again",
      },
    },
    {
      name: "relay refused without credentials (401 with 554) keeps the 554",
      input: problem({ status: 401, slug: "rejected", smtpReply: "554 5.7.1 <v@x>: Relay access denied" }),
      sentToken: false,
      want: { code: 554, enhanced: "5.7.1", text: "<v@x>: Relay access denied" },
    },
    {
      name: "too large: 552 5.3.4",
      input: problem({
        status: 413,
        slug: "message-too-large",
        smtpStatus: "5.3.4",
        detail: "Message size exceeds fixed limit",
      }),
      sentToken: true,
      want: { code: 552, enhanced: "5.3.4", text: "Message size exceeds fixed limit" },
    },
    {
      name: "only an enhanced code: a reply of its class",
      input: problem({ status: 422, slug: "invalid-message", smtpStatus: "5.6.0", detail: "bad header" }),
      sentToken: true,
      want: { code: 554, enhanced: "5.6.0", text: "bad header" },
    },
    {
      name: "nothing to go on: the fallback",
      input: problem({ status: 404, slug: "not-found" }),
      sentToken: true,
      want: FALLBACK,
    },
  ])("$name", ({ input, sentToken, want }) => {
    expect(replyForProblem(input, { sentToken, fallback: FALLBACK })).toEqual(want);
  });
});

describe("parseReply", () => {
  it("reads code, enhanced code and text; refuses what is not a 4xx/5xx reply", () => {
    expect(parseReply("554 5.7.1 <v@x>: Relay access denied")).toEqual({
      code: 554,
      enhanced: "5.7.1",
      text: "<v@x>: Relay access denied",
    });
    expect(parseReply("250 2.0.0 Ok")).toBeNull();
    expect(parseReply("554 Relay access denied")).toBeNull();
    // The class of the enhanced code follows the reply code (Postfix's rule).
    expect(parseReply("451 5.3.0 oops")).toEqual({ code: 451, enhanced: "4.3.0", text: "oops" });
  });
});
