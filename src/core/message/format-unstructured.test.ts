import { describe, expect, it } from "vitest";
import { formatUnstructured } from "./format-unstructured.ts";

describe("formatUnstructured", () => {
  const cases = [
    { name: "ASCII stays readable", value: "Hello world", want: "Hello world" },
    { name: "TAB stays", value: "a\tb", want: "a\tb" },
    { name: "non-ASCII is encoded", value: "Grüße", want: "=?UTF-8?B?R3LDvMOfZQ==?=" },
    { name: "encoded-word lookalike is encoded", value: "=?x?", want: "=?UTF-8?B?PT94Pw==?=" },
  ];
  for (const { name, value, want } of cases) {
    it(name, () => expect(formatUnstructured("Subject", value)).toBe(want));
  }
});
