import { describe, expect, it } from "vitest";
import { type PathArgument, parsePathArgument } from "./parse-path-argument.ts";

const ok = (address: string, ...params: [string, string | null][]): PathArgument => ({
  ok: true,
  address,
  params: params.map(([keyword, value]) => ({
    keyword,
    value,
    raw: value === null ? keyword : `${keyword}=${value}`,
  })),
});

describe("parsePathArgument", () => {
  const cases: { name: string; input: string; keyword?: "FROM" | "TO"; want: PathArgument }[] = [
    { name: "a plain path", input: "FROM:<a@example.com>", want: ok("a@example.com") },
    { name: "the keyword in any case", input: "from:<a@example.com>", want: ok("a@example.com") },
    { name: "the null path", input: "FROM:<>", want: ok("") },
    { name: "a space after the colon", input: "FROM: <a@example.com>", want: ok("a@example.com") },
    { name: "no angle brackets", input: "FROM:a@example.com", want: ok("a@example.com") },
    {
      name: "no angle brackets, with a parameter",
      input: "FROM: a@example.com SIZE=10",
      want: ok("a@example.com", ["SIZE", "10"]),
    },
    {
      name: "parameters, upper-cased keywords, values as written",
      input: "FROM:<a@example.com> SIZE=1000 BODY=8BITMIME SMTPUTF8 AUTH=a+2Bb@x",
      want: ok(
        "a@example.com",
        ["SIZE", "1000"],
        ["BODY", "8BITMIME"],
        ["SMTPUTF8", null],
        ["AUTH", "a+2Bb@x"],
      ),
    },
    {
      name: "extra spaces between parameters",
      input: "TO:<b@x>  NOTIFY=NEVER",
      keyword: "TO",
      want: ok("b@x", ["NOTIFY", "NEVER"]),
    },
    {
      name: "a source route is dropped",
      input: "TO:<@relay.a,@relay.b:b@x>",
      keyword: "TO",
      want: ok("b@x"),
    },
    { name: "a quoted local part with > and spaces", input: 'FROM:<"a> b"@x>', want: ok('"a> b"@x') },
    { name: "a quoted pair inside quotes", input: 'FROM:<"a\\"> b"@x>', want: ok('"a\\"> b"@x') },
    { name: "the wrong keyword", input: "TO:<a@x>", want: { ok: false, error: "syntax" } },
    { name: "no colon", input: "FROM <a@x>", want: { ok: false, error: "syntax" } },
    { name: "nothing after the colon", input: "FROM:", want: { ok: false, error: "syntax" } },
    { name: "an unclosed bracket", input: "FROM:<a@x", want: { ok: false, error: "address" } },
    { name: "text glued to the bracket", input: "FROM:<a@x>SIZE=1", want: { ok: false, error: "address" } },
    { name: "a nested bracket", input: "FROM:<a<b@x>", want: { ok: false, error: "address" } },
    { name: "a route without a mailbox", input: "FROM:<@a:>", want: { ok: false, error: "address" } },
    { name: "a route without a colon", input: "FROM:<@a>", want: { ok: false, error: "address" } },
    { name: "a bracket in a bare path", input: "FROM:a>@x", want: { ok: false, error: "address" } },
    {
      name: "a parameter without a keyword",
      input: "FROM:<a@x> =1",
      want: { ok: false, error: "parameter", raw: "=1" },
    },
    {
      name: "a parameter with an empty value",
      input: "FROM:<a@x> SIZE=",
      want: { ok: false, error: "parameter", raw: "SIZE=" },
    },
    {
      name: "a parameter value with a control character",
      input: "FROM:<a@x> ENVID=a\x01",
      want: { ok: false, error: "parameter", raw: "ENVID=a\x01" },
    },
  ];
  for (const { name, input, keyword, want } of cases) {
    it(name, () => expect(parsePathArgument(input, keyword ?? "FROM")).toEqual(want));
  }
});
