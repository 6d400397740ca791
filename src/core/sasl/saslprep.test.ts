import { describe, expect, it } from "vitest";
import { saslprep } from "./saslprep.ts";

describe("saslprep", () => {
  // RFC 4013 §3 examples, then the mapping and prohibition tables they stand for.
  const cases: { name: string; input: string; allowUnassigned?: boolean; want: object }[] = [
    {
      name: "RFC 4013 #1: SOFT HYPHEN mapped to nothing",
      input: "I\u00adX",
      want: { ok: true, value: "IX" },
    },
    { name: "RFC 4013 #2: no transformation", input: "user", want: { ok: true, value: "user" } },
    { name: "RFC 4013 #3: case preserved", input: "USER", want: { ok: true, value: "USER" } },
    { name: "RFC 4013 #4: output is NFKC", input: "\u00aa", want: { ok: true, value: "a" } },
    { name: "RFC 4013 #5: output is NFKC", input: "\u2168", want: { ok: true, value: "IX" } },
    {
      name: "RFC 4013 #6: prohibited character",
      input: "\u0007",
      want: { ok: false, reason: "prohibited character (RFC 4013 §2.3)" },
    },
    {
      name: "RFC 4013 #7: bidirectional check",
      input: "\u06271",
      want: { ok: false, reason: "mixed or misplaced right-to-left characters (RFC 3454 §6)" },
    },
    { name: "non-ASCII space mapped to SPACE", input: "a\u2003b", want: { ok: true, value: "a b" } },
    { name: "zero-width joiner mapped to nothing", input: "a\u200db", want: { ok: true, value: "ab" } },
    // U+200B is in both C.1.2 (to SPACE) and B.1 (to nothing); §2.1 applies first.
    { name: "zero-width space mapped to SPACE", input: "a\u200bb", want: { ok: true, value: "a b" } },
    { name: "zero-width space alone", input: "\u200b", want: { ok: true, value: " " } },
    { name: "only characters mapped to nothing", input: "\u00ad\ufeff", want: { ok: true, value: "" } },
    { name: "empty", input: "", want: { ok: true, value: "" } },
    { name: "NUL", input: "a\0", want: { ok: false } },
    { name: "DEL", input: "a\u007f", want: { ok: false } },
    { name: "lone surrogate", input: "a\ud800", want: { ok: false } },
    { name: "private use", input: "\ue000", want: { ok: false } },
    { name: "right-to-left alone", input: "\u0627\u0628", want: { ok: true, value: "\u0627\u0628" } },
    {
      name: "unassigned refused for stored strings",
      input: "\u0221",
      allowUnassigned: false,
      want: { ok: false, reason: "unassigned code point (RFC 4013 §2.5)" },
    },
    {
      name: "unassigned allowed in queries",
      input: "\u0221",
      allowUnassigned: true,
      want: { ok: true, value: "\u0221" },
    },
  ];
  for (const { name, input, allowUnassigned = false, want } of cases) {
    it(name, () => expect(saslprep(input, { allowUnassigned })).toMatchObject(want));
  }

  it("never throws", () => {
    const hostile = [
      "\ud800",
      "\udc00\ud800",
      "\u0000".repeat(10000),
      "x".repeat(100_000),
      "\u0627a\u0627",
      "\u{10ffff}",
    ];
    for (const input of hostile) {
      for (const allowUnassigned of [false, true]) {
        expect(() => saslprep(input, { allowUnassigned })).not.toThrow();
      }
    }
  });
});
