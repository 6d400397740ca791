import { describe, expect, it } from "vitest";
import { formatMailboxList, formatPhrase } from "./format-mailbox-list.ts";

describe("formatPhrase / formatMailboxList", () => {
  const phrases = [
    { name: "atoms", input: "Alice Smith", want: ["Alice", "Smith"] },
    { name: "specials are quoted", input: "Smith, Alice (Sales)", want: ['"Smith, Alice (Sales)"'] },
    { name: "dot is quoted", input: "A. Smith", want: ['"A. Smith"'] },
    { name: "quote and backslash escaped", input: 'say "hi" \\o/', want: ['"say \\"hi\\" \\\\o/"'] },
    { name: "double space is quoted (kept)", input: "a  b", want: ['"a  b"'] },
    { name: "non-ASCII is encoded", input: "Zoë", want: ["=?UTF-8?B?Wm/Dqw==?="] },
  ];
  for (const { name, input, want } of phrases) {
    it(name, () => expect(formatPhrase(input)).toEqual(want));
  }

  it("writes a list with commas and bare addresses for nameless mailboxes", () => {
    expect(
      formatMailboxList("To", [
        { email: "a@example.com", name: "A" },
        { email: "b@example.com" },
        { email: "c@example.com" },
      ]),
    ).toBe("A <a@example.com>, b@example.com, c@example.com");
  });
});
