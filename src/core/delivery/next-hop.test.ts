import { describe, expect, it } from "vitest";
import { backoffDelay, hasExpired } from "./backoff.ts";
import { nextHopKeys, parseNextHop } from "./next-hop.ts";
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
    expect(result).toEqual({ ok: true, hop: { ...want, written: input } });
  });

  it.each(["", "[smtp.example]:0", "[smtp.example]:70000", "[smtp.example]:nosuchservice", "a b:25", "[x"])(
    "refuses %j",
    (input) => expect(parseNextHop(input).ok).toBe(false),
  );
});

describe("smtp_sasl_password_maps keys", () => {
  const hop = (s: string) => {
    const r = parseNextHop(s);
    if (!r.ok) throw new Error(r.reason);
    return r.hop;
  };
  it("tries the next hop as written, then without the port", () => {
    expect(nextHopKeys(hop("[smtp.example]:587"))).toEqual(["[smtp.example]:587", "[smtp.example]"]);
    expect(nextHopKeys(hop("smtp.example:587"))).toEqual(["smtp.example:587", "smtp.example"]);
    expect(nextHopKeys(hop("[smtp.example]"))).toEqual(["[smtp.example]"]);
  });
  it("puts the sender and its @domain first with smtp_sender_dependent_authentication", () => {
    expect(passwordMapKeys(hop("[s]:587"), "a@b.example", true)).toEqual([
      "a@b.example",
      "@b.example",
      "[s]:587",
      "[s]",
    ]);
    expect(passwordMapKeys(hop("[s]:587"), "a@b.example", false)).toEqual(["[s]:587", "[s]"]);
    expect(passwordMapKeys(hop("[s]:587"), "", true)).toEqual(["[s]:587", "[s]"]);
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
