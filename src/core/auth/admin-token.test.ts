import { describe, expect, it } from "vitest";
import { checkAdminToken } from "./admin-token.ts";

const SECRET = "0123456789abcdef-admin";

describe("checkAdminToken", () => {
  const cases: {
    name: string;
    presented: string | null | undefined;
    expected: string | undefined;
    want: boolean;
  }[] = [
    { name: "match", presented: SECRET, expected: SECRET, want: true },
    { name: "wrong token", presented: `${SECRET}x`, expected: SECRET, want: false },
    { name: "prefix of the token", presented: SECRET.slice(0, -1), expected: SECRET, want: false },
    { name: "case differs", presented: SECRET.toUpperCase(), expected: SECRET, want: false },
    { name: "nothing presented", presented: null, expected: SECRET, want: false },
    { name: "undefined presented", presented: undefined, expected: SECRET, want: false },
    { name: "empty presented", presented: "", expected: SECRET, want: false },
    { name: "secret unset: closed, not open", presented: undefined, expected: undefined, want: false },
    { name: "secret unset, something presented", presented: "anything", expected: undefined, want: false },
    { name: "empty secret never matches the empty token", presented: "", expected: "", want: false },
    {
      name: "15-char secret is too short even when it matches",
      presented: "a".repeat(15),
      expected: "a".repeat(15),
      want: false,
    },
    { name: "16-char secret is enough", presented: "a".repeat(16), expected: "a".repeat(16), want: true },
    {
      name: "non-ASCII compared as UTF-8",
      presented: "\u00e9".repeat(16),
      expected: "e\u0301".repeat(16),
      want: false,
    },
  ];
  for (const c of cases) {
    it(c.name, async () => expect(await checkAdminToken(c.presented, c.expected)).toBe(c.want));
  }
});
