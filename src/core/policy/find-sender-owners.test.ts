import { describe, expect, it } from "vitest";
import type { LookupTable } from "../maps/lookup-table.ts";
import { openTable } from "../maps/open-table.ts";
import { findSenderOwners, senderKeys } from "./find-sender-owners.ts";

/** An inline: table that also records the keys it was asked for. */
function recorded(spec: string, asked: string[]): LookupTable {
  const table = openTable(spec);
  return {
    lookup: (key) => {
      asked.push(key);
      return table.lookup(key);
    },
  };
}

const LOCAL = ["example.com"];

describe("findSenderOwners", () => {
  const cases = [
    {
      name: "user@domain first",
      input: {
        spec: "inline:{ alice@example.com=alice, alice=other, @example.com=postmaster }",
        sender: "alice@example.com",
      },
      want: { owners: ["alice"], asked: ["alice@example.com"] },
    },
    {
      name: "then the bare user, for a local domain",
      input: { spec: "inline:{ alice=alice, @example.com=postmaster }", sender: "alice@example.com" },
      want: { owners: ["alice"], asked: ["alice@example.com", "alice"] },
    },
    {
      name: "the bare user is not tried for a remote domain",
      input: { spec: "inline:{ alice=alice, @remote.test=carol }", sender: "alice@remote.test" },
      want: { owners: ["carol"], asked: ["alice@remote.test", "@remote.test"] },
    },
    {
      name: "then @domain",
      input: { spec: "inline:{ @example.com=postmaster }", sender: "bob@example.com" },
      want: { owners: ["postmaster"], asked: ["bob@example.com", "bob", "@example.com"] },
    },
    {
      name: "not listed",
      input: { spec: "inline:{ other@example.com=x }", sender: "bob@remote.test" },
      want: { owners: null, asked: ["bob@remote.test", "@remote.test"] },
    },
    {
      name: "keys are looked up folded to lowercase",
      input: { spec: "inline:{ alice@example.com=alice }", sender: "Alice@Example.COM" },
      want: { owners: ["alice"], asked: ["alice@example.com"] },
    },
    {
      name: "a local domain is matched case-insensitively",
      input: { spec: "inline:{ bob=bob }", sender: "bob@EXAMPLE.com" },
      want: { owners: ["bob"], asked: ["bob@example.com", "bob"] },
    },
    {
      name: "several owners, commas and/or whitespace",
      input: { spec: "inline:{ { info@example.com = alice, bob  carol,dave } }", sender: "info@example.com" },
      want: { owners: ["alice", "bob", "carol", "dave"], asked: ["info@example.com"] },
    },
    {
      name: "listed with no owners at all",
      input: { spec: "inline:{ { nobody@example.com = } }", sender: "nobody@example.com" },
      want: { owners: [], asked: ["nobody@example.com"] },
    },
    {
      name: "the null sender is never listed (and never looked up)",
      input: { spec: "inline:{ <>=alice }", sender: "" },
      want: { owners: null, asked: [] },
    },
    {
      name: "a sender without a domain is looked up as written",
      input: { spec: "inline:{ root=admin }", sender: "root" },
      want: { owners: ["admin"], asked: ["root"] },
    },
  ];
  for (const { name, input, want } of cases) {
    it(name, async () => {
      const asked: string[] = [];
      const owners = await findSenderOwners([recorded(input.spec, asked)], input.sender, LOCAL);
      expect(owners).toEqual(want.owners);
      expect(asked).toEqual(want.asked);
    });
  }

  it("each key is tried in every table before the next key (Postfix's maps order)", async () => {
    const asked: string[] = [];
    const tables = [
      recorded("inline:{ @example.com=first }", asked),
      recorded("inline:{ bob=second }", asked),
    ];
    expect(await findSenderOwners(tables, "bob@example.com", LOCAL)).toEqual(["second"]);
    expect(asked).toEqual(["bob@example.com", "bob@example.com", "bob", "bob"]);
  });

  it("no tables: nothing is listed", async () => {
    expect(await findSenderOwners([], "alice@example.com", LOCAL)).toBeNull();
  });

  it("a failing table is an error, not 'not listed'", async () => {
    const broken: LookupTable = { lookup: () => Promise.reject(new Error("db down")) };
    await expect(findSenderOwners([broken], "alice@example.com", LOCAL)).rejects.toThrow("db down");
  });
});

describe("senderKeys", () => {
  const cases = [
    {
      name: "local domain",
      input: { sender: "a@example.com", local: LOCAL },
      want: ["a@example.com", "a", "@example.com"],
    },
    {
      name: "remote domain",
      input: { sender: "a@remote.test", local: LOCAL },
      want: ["a@remote.test", "@remote.test"],
    },
    {
      name: "the root dot is dropped",
      input: { sender: "a@example.com.", local: LOCAL },
      want: ["a@example.com", "a", "@example.com"],
    },
    {
      name: "a quoted local part is unquoted",
      input: { sender: '"alice"@example.com', local: LOCAL },
      want: ["alice@example.com", "alice", "@example.com"],
    },
    {
      name: "quoted-pairs are unescaped",
      input: { sender: '"a\\"b c"@remote.test', local: LOCAL },
      want: ['a"b c@remote.test', "@remote.test"],
    },
    {
      name: "a lone quote is not a quoted string",
      input: { sender: '"@remote.test', local: LOCAL },
      want: ['"@remote.test', "@remote.test"],
    },
    {
      name: "no local domains",
      input: { sender: "a@example.com", local: [] },
      want: ["a@example.com", "@example.com"],
    },
  ];
  for (const { name, input, want } of cases) {
    it(name, () => expect(senderKeys(input.sender, input.local)).toEqual(want));
  }
});
