import { describe, expect, it } from "vitest";
import { backoffDelay, hasExpired } from "./backoff.ts";
import { nextHopKeys, parseNextHop, parseNextHops } from "./next-hop.ts";
import { passwordMapKeys } from "./relay-credentials.ts";

describe("parseNextHop (relayhost)", () => {
  it.each([
    { input: "[smtp.example]:587", want: { host: "smtp.example", port: 587, bracketed: true } },
    { input: "[smtp.example]:submission", want: { host: "smtp.example", port: 587, bracketed: true } },
    { input: "[smtp.example]:submissions", want: { host: "smtp.example", port: 465, bracketed: true } },
    { input: "[smtp.example]", want: { host: "smtp.example", port: 25, bracketed: true } },
    { input: "smtp.example:2525", want: { host: "smtp.example", port: 2525, bracketed: false } },
    { input: "[192.0.2.1]:465", want: { host: "192.0.2.1", port: 465, bracketed: true } },
  ])("$input", ({ input, want }) => {
    const result = parseNextHop(input);
    expect(result).toEqual({
      ok: true,
      hop: { ...want, written: input, protocol: "smtp", unix: false },
    });
  });

  it.each([
    {
      input: "lmtp:[127.0.0.1]:2424",
      want: { protocol: "lmtp", host: "127.0.0.1", port: 2424, written: "[127.0.0.1]:2424", unix: false },
    },
    {
      input: "lmtp:[mail.example]",
      want: { protocol: "lmtp", host: "mail.example", port: 24, written: "[mail.example]", unix: false },
    },
    {
      input: "smtp:[mail.example]:587",
      want: { protocol: "smtp", host: "mail.example", port: 587, written: "[mail.example]:587", unix: false },
    },
    {
      input: "lmtp:unix:/run/dovecot/lmtp",
      want: {
        protocol: "lmtp",
        host: "/run/dovecot/lmtp",
        port: 0,
        written: "unix:/run/dovecot/lmtp",
        unix: true,
      },
    },
  ])("transport prefix $input", ({ input, want }) => {
    const result = parseNextHop(input);
    expect(result.ok && result.hop).toMatchObject(want);
  });

  it("parses a list, in order, separated by comma or whitespace", () => {
    const result = parseNextHops("[a.example]:587, b.example:587  lmtp:[c.example]");
    expect(result.ok && result.hops.map((h) => [h.protocol, h.host, h.port])).toEqual([
      ["smtp", "a.example", 587],
      ["smtp", "b.example", 587],
      ["lmtp", "c.example", 24],
    ]);
    expect(parseNextHops("[a.example]:587, [b").ok).toBe(false);
    expect(parseNextHops(" , ").ok).toBe(false);
  });

  it.each([
    "",
    "[smtp.example]:0",
    "[smtp.example]:70000",
    "[smtp.example]:nosuchservice",
    "a b:25",
    "[x",
    "lmtp:unix:relative",
    "smtp:unix:/x",
  ])("refuses %j", (input) => expect(parseNextHop(input).ok).toBe(false));
});

describe("smtp_sasl_password_maps keys", () => {
  const hop = (s: string) => {
    const r = parseNextHop(s);
    if (!r.ok) throw new Error(r.reason);
    return r.hop;
  };
  it("tries the host name, then the next hop exactly as written (smtp_sasl_glue.c)", () => {
    expect(nextHopKeys(hop("[smtp.example]:587"))).toEqual(["smtp.example", "[smtp.example]:587"]);
    expect(nextHopKeys(hop("smtp.example:587"))).toEqual(["smtp.example", "smtp.example:587"]);
    expect(nextHopKeys(hop("[smtp.example]"))).toEqual(["smtp.example", "[smtp.example]"]);
    expect(nextHopKeys(hop("smtp.example"))).toEqual(["smtp.example"]);
    // Not "[smtp.example]" for "[smtp.example]:587": SASL_README says to use the same form.
    expect(nextHopKeys(hop("[smtp.example]:587"))).not.toContain("[smtp.example]");
  });
  it("puts the sender and its @domain first with smtp_sender_dependent_authentication", () => {
    expect(passwordMapKeys(hop("[s]:587"), "a@b.example", true)).toEqual([
      "a@b.example",
      "@b.example",
      "s",
      "[s]:587",
    ]);
    expect(passwordMapKeys(hop("[s]:587"), "a@b.example", false)).toEqual(["s", "[s]:587"]);
    expect(passwordMapKeys(hop("[s]:587"), "", true)).toEqual(["s", "[s]:587"]);
    // LMTP: no sender-dependent lookup (Postfix does it in SMTP mode only).
    expect(passwordMapKeys(hop("lmtp:[s]:24"), "a@b.example", true)).toEqual(["s", "[s]:24"]);
  });
});

describe("backoff", () => {
  const policy = { minimalMs: 300_000, maximalMs: 4_000_000, queueLifetimeMs: 5 * 86400_000 };
  it("doubles from minimal_backoff_time up to maximal_backoff_time", () => {
    expect([1, 2, 3, 4, 5, 50].map((n) => backoffDelay(policy, n))).toEqual([
      300_000, 600_000, 1_200_000, 2_400_000, 4_000_000, 4_000_000,
    ]);
  });
  it("expires after maximal_queue_lifetime", () => {
    expect(hasExpired(policy, 0, 5 * 86400_000 - 1)).toBe(false);
    expect(hasExpired(policy, 0, 5 * 86400_000)).toBe(true);
  });
});
