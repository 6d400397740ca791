import { describe, expect, it } from "vitest";
import { normalizePassword } from "./normalize-password.ts";

// SASLprep for stored passwords (RFC 5802 §2.2 Normalize, RFC 4013); scram-record.test.ts has the
// NFKC cases.
describe("normalizePassword (SASLprep)", () => {
  const cases = [
    { name: "soft hyphen removed", input: "pen\u00adcil", want: { ok: true, value: "pencil" } },
    { name: "zero-width joiner removed", input: "pen\u200dcil", want: { ok: true, value: "pencil" } },
    { name: "ideographic space becomes SPACE", input: "a\u3000b", want: { ok: true, value: "a b" } },
    {
      name: "only mapped-to-nothing characters is empty",
      input: "\u00ad",
      want: { ok: false, reason: "password is empty" },
    },
    { name: "unassigned code point refused", input: "pass\u0221", want: { ok: false } },
    { name: "private use refused", input: "pass\ue000", want: { ok: false } },
    { name: "bidi rule", input: "\u0627a", want: { ok: false } },
    { name: "right-to-left password", input: "\u05d0\u05d1", want: { ok: true, value: "\u05d0\u05d1" } },
  ];
  for (const { name, input, want } of cases) {
    it(name, () => expect(normalizePassword(input)).toMatchObject(want));
  }
});
