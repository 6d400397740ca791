import { describe, expect, it } from "vitest";
import { BASIC_CREDENTIALS_LIMIT, parseBasicAuthorization } from "./basic.ts";

const b64 = (text: string) => {
  const bytes = new TextEncoder().encode(text);
  return btoa(String.fromCharCode(...bytes));
};

describe("parseBasicAuthorization", () => {
  const cases: { name: string; input: string | null | undefined; want: unknown }[] = [
    { name: "missing header", input: null, want: null },
    { name: "undefined header", input: undefined, want: null },
    { name: "Bearer scheme", input: "Bearer abc", want: null },
    { name: "scheme prefix only", input: "Basically dXNlcjpwdw==", want: null },
    // RFC 7617 §2 example
    {
      name: "RFC 7617 example",
      input: "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==",
      want: { ok: true, username: "Aladdin", password: "open sesame" },
    },
    {
      name: "scheme is case-insensitive",
      input: `bAsIc ${b64("u:p")}`,
      want: { ok: true, username: "u", password: "p" },
    },
    {
      name: "split at the first colon; password keeps the rest",
      input: `Basic ${b64("user:pa:ss:")}`,
      want: { ok: true, username: "user", password: "pa:ss:" },
    },
    {
      name: "UTF-8 (RFC 7617 §2.1 example: test / 123£)",
      input: "Basic dGVzdDoxMjPCow==",
      want: { ok: true, username: "test", password: "123\u00a3" },
    },
    {
      name: "empty password allowed here",
      input: `Basic ${b64("u:")}`,
      want: { ok: true, username: "u", password: "" },
    },
    { name: "no credentials", input: "Basic", want: { ok: false } },
    { name: "blank credentials", input: "Basic   ", want: { ok: false } },
    { name: "not base64", input: "Basic ***", want: { ok: false, reason: "cannot decode credentials" } },
    {
      name: "bad padding",
      input: "Basic dXNlcjpw=",
      want: { ok: false, reason: "cannot decode credentials" },
    },
    { name: "no colon", input: `Basic ${b64("userpass")}`, want: { ok: false } },
    { name: "empty user-id", input: `Basic ${b64(":pass")}`, want: { ok: false, reason: "empty user-id" } },
    {
      name: "NUL in user-id (PLAIN authzid smuggling)",
      input: `Basic ${b64("a\u0000b:p")}`,
      want: { ok: false },
    },
    { name: "NUL in password", input: `Basic ${b64("u:p\u0000w")}`, want: { ok: false } },
    { name: "CR LF in user-id", input: `Basic ${b64("u\r\nX: y:p")}`, want: { ok: false } },
    { name: "DEL in password", input: `Basic ${b64("u:p\u007f")}`, want: { ok: false } },
    { name: "C1 control in user-id", input: `Basic ${b64("u\u0085:p")}`, want: { ok: false } },
    { name: "invalid UTF-8", input: `Basic ${btoa("u:\xff\xfe")}`, want: { ok: false } },
  ];
  for (const { name, input, want } of cases) {
    it(name, () => {
      const got = parseBasicAuthorization(input);
      if (want === null) expect(got).toBeNull();
      else expect(got).toMatchObject(want as object);
    });
  }

  it("accepts credentials at the 12288-byte limit and refuses one byte more", () => {
    const at = `Basic ${"A".repeat(BASIC_CREDENTIALS_LIMIT - 4)}${b64("u:p").slice(0, 4)}`;
    expect(at.length - "Basic ".length).toBe(BASIC_CREDENTIALS_LIMIT);
    // fits: decodes (to garbage without a colon, which is a different reason than the limit)
    expect(parseBasicAuthorization(at)).not.toMatchObject({ reason: expect.stringContaining("longer") });
    const over = `Basic ${b64(`u:${"p".repeat(9300)}`)}`;
    expect(over.length - "Basic ".length).toBeGreaterThan(BASIC_CREDENTIALS_LIMIT);
    expect(parseBasicAuthorization(over)).toEqual({
      ok: false,
      reason: "credentials longer than 12288 bytes",
    });
  });

  it("accepts a long but legal password under the limit", () => {
    const password = "p".repeat(9000);
    expect(parseBasicAuthorization(`Basic ${b64(`u:${password}`)}`)).toEqual({
      ok: true,
      username: "u",
      password,
    });
  });
});
