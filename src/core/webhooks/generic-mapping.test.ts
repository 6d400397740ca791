import { describe, expect, it } from "vitest";
import { checkMapping, mapPayload } from "./generic-mapping.ts";
import { resolvePointer } from "./json-pointer.ts";

describe("resolvePointer (RFC 6901 §5 examples)", () => {
  const doc = { foo: ["bar", "baz"], "": 0, "a/b": 1, "m~n": 8 };
  const cases: [string, unknown][] = [
    ["", doc],
    ["/foo", ["bar", "baz"]],
    ["/foo/0", "bar"],
    ["/", 0],
    ["/a~1b", 1],
    ["/m~0n", 8],
    ["/foo/2", undefined],
    ["/foo/01", undefined],
    ["/nope/x", undefined],
  ];
  for (const [pointer, want] of cases)
    it(JSON.stringify(pointer), () => expect(resolvePointer(doc, pointer)).toEqual(want));
});

describe("mapPayload", () => {
  const payload = { order: { email: "a@example.com", name: "Ann", total: 12.5, items: [{ sku: "x" }] } };
  it("maps recipient, variables (numbers and objects as text)", () => {
    expect(
      mapPayload(payload, {
        to: "/order/email",
        variables: {
          name: "/order/name",
          total: "/order/total",
          first: "/order/items/0",
          none: "/order/none",
        },
      }),
    ).toEqual({
      ok: true,
      value: {
        to: ["a@example.com"],
        from: null,
        subject: null,
        template: null,
        variables: { name: "Ann", total: "12.5", first: '{"sku":"x"}' },
      },
    });
  });
  it("refuses a missing recipient and non-string sender", () => {
    expect(mapPayload(payload, { to: "/order/nobody" })).toMatchObject({ ok: false });
    expect(mapPayload(payload, { to: "/order/email", from: "/order/total" })).toMatchObject({ ok: false });
  });
  it("checkMapping names bad pointers", () => {
    expect(checkMapping({ to: "order/email", variables: { "bad name": "/x" } })).toEqual([
      "to: not a JSON Pointer (RFC 6901)",
      "variables.bad name: not a placeholder name",
    ]);
  });
});
