import { describe, expect, it } from "vitest";
import { lookupFirst } from "./lookup-first.ts";
import type { LookupTable } from "./lookup-table.ts";
import { openTable } from "./open-table.ts";

function recording(entries: Record<string, string>, asked: string[]): LookupTable {
  return {
    lookup: async (key) => {
      asked.push(key);
      return entries[key] ?? null;
    },
  };
}

describe("lookupFirst", () => {
  const cases = [
    { name: "first table wins", input: { key: "a" }, want: "one" },
    { name: "falls through to the second table", input: { key: "b" }, want: "two" },
    { name: "nothing anywhere", input: { key: "c" }, want: null },
  ];
  for (const { name, input, want } of cases) {
    it(name, async () => {
      const tables = [openTable("inline:{ a=one }"), openTable("inline:{ a=other, b=two }")];
      expect(await lookupFirst(tables, input.key)).toBe(want);
    });
  }

  it("folds the key before asking a table", async () => {
    const asked: string[] = [];
    expect(await lookupFirst([recording({ "alice@example.com": "x" }, asked)], "Alice@EXAMPLE.com")).toBe(
      "x",
    );
    expect(asked).toEqual(["alice@example.com"]);
  });

  it("stops at the first hit", async () => {
    const asked: string[] = [];
    await lookupFirst([recording({ k: "1" }, asked), recording({ k: "2" }, asked)], "k");
    expect(asked).toEqual(["k"]);
  });

  it("a failing table stops the search instead of being skipped", async () => {
    const asked: string[] = [];
    const broken: LookupTable = { lookup: async () => Promise.reject(new Error("db down")) };
    await expect(lookupFirst([broken, recording({ k: "1" }, asked)], "k")).rejects.toThrow("db down");
    expect(asked).toEqual([]);
  });

  it("an empty list finds nothing", async () => {
    expect(await lookupFirst([], "k")).toBeNull();
  });
});
