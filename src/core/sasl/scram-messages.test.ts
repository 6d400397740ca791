import { describe, expect, it } from "vitest";
import { formatGs2Header, parseGs2Header } from "./gs2-header.ts";
import {
  decodeBase64,
  decodeSaslName,
  encodeSaslName,
  makeNonce,
  NONCE_ALPHABET,
  parseAttributes,
  parseClientFinal,
  parseClientFirstBare,
  parseServerFinal,
  parseServerFirst,
} from "./scram-messages.ts";

describe("saslname escaping (RFC 5802 §5.1)", () => {
  it.each([
    { name: "plain", decoded: "user", encoded: "user" },
    { name: "comma", decoded: "a,b", encoded: "a=2Cb" },
    { name: "equals", decoded: "a=b", encoded: "a=3Db" },
    { name: "an escape sequence as data", decoded: "=2C", encoded: "=3D2C" },
    { name: "UTF-8", decoded: "j\u00f6rg", encoded: "j\u00f6rg" },
  ])("$name round-trips", ({ decoded, encoded }) => {
    expect(encodeSaslName(decoded)).toBe(encoded);
    expect(decodeSaslName(encoded)).toEqual({ ok: true, value: decoded });
  });

  it.each(["", "a=", "a=2", "a=2c", "a=41", "=="])("refuses %j", (text) => {
    expect(decodeSaslName(text).ok).toBe(false);
  });
});

describe("parseAttributes", () => {
  it("keeps values with '=' and UTF-8 intact", () => {
    expect(parseAttributes("s=QSXCR+Q6sek8bf92==,x=\u00e9")).toEqual({
      ok: true,
      value: [
        { name: "s", value: "QSXCR+Q6sek8bf92==" },
        { name: "x", value: "\u00e9" },
      ],
    });
  });

  it.each(["", "ab=1", "=1", "a", "a=1,", "a=1,a=2", "1=a", "a=\u0000"])("refuses %j", (text) => {
    expect(parseAttributes(text).ok).toBe(false);
  });
});

describe("decodeBase64", () => {
  it.each([
    { input: "biws", want: [0x6e, 0x2c, 0x2c] },
    { input: "QQ==", want: [0x41] },
    { input: "", want: [] },
  ])("decodes $input", ({ input, want }) => {
    expect(decodeBase64(input)).toEqual({ ok: true, value: Uint8Array.from(want) });
  });

  it.each(["QQ", "QR==", "Q Q==", "QQ=", "Q===", "b-ws", "biws\n"])("refuses non-canonical %j", (input) => {
    expect(decodeBase64(input).ok).toBe(false);
  });
});

describe("makeNonce", () => {
  it("maps one random byte to one printable character, never a comma", () => {
    const nonce = makeNonce((n) => Uint8Array.from({ length: n }, (_, i) => i * 7), 37);
    expect(nonce).toHaveLength(37);
    expect(nonce).toMatch(/^[\x21-\x2b\x2d-\x7e]+$/);
    expect(NONCE_ALPHABET).toHaveLength(93);
    expect(NONCE_ALPHABET).not.toContain(",");
  });

  it("uses only the bytes it asked for", () => {
    expect(makeNonce(() => new Uint8Array(100), 3)).toBe("!!!");
  });
});

describe("message parsers", () => {
  it("parses a client-first-bare with an extension and an escaped name", () => {
    expect(parseClientFirstBare("n=a=2Cb,r=abc,x=ignored")).toEqual({
      ok: true,
      value: { username: "a,b", nonce: "abc", mandatoryExtension: false },
    });
    expect(parseClientFirstBare("m=x,n=u,r=abc")).toMatchObject({
      ok: true,
      value: { mandatoryExtension: true },
    });
  });

  it("parses a server-first and refuses a zero or padded iteration count", () => {
    expect(parseServerFirst("r=abcXYZ,s=QQ==,i=4096")).toEqual({
      ok: true,
      value: { nonce: "abcXYZ", salt: Uint8Array.of(0x41), iterations: 4096, mandatoryExtension: false },
    });
    for (const i of ["0", "04096", "-1", "4096.0", "1e4", "99999999999"]) {
      expect(parseServerFirst(`r=a,s=QQ==,i=${i}`).ok).toBe(false);
    }
  });

  it("splits the client-final at the proof for AuthMessage", () => {
    const parsed = parseClientFinal("c=biws,r=abc,x=1,p=AAAA");
    expect(parsed).toMatchObject({ ok: true, value: { nonce: "abc", withoutProof: "c=biws,r=abc,x=1" } });
  });

  it("parses verifier and error server-finals", () => {
    expect(parseServerFinal("v=QQ==")).toEqual({
      ok: true,
      value: { kind: "verifier", signature: Uint8Array.of(0x41) },
    });
    expect(parseServerFinal("e=invalid-proof,x=1")).toEqual({
      ok: true,
      value: { kind: "error", error: "invalid-proof" },
    });
    for (const bad of ["", "v=", "e=", "x=1", "v=Q"]) expect(parseServerFinal(bad).ok).toBe(false);
  });
});

describe("GS2 header", () => {
  it.each([
    { input: "n,,n=u,r=a", flag: { kind: "n" }, authzid: null, text: "n,,", bare: "n=u,r=a" },
    { input: "y,,n=u,r=a", flag: { kind: "y" }, authzid: null, text: "y,,", bare: "n=u,r=a" },
    {
      input: "p=tls-exporter,a=b=2Cc,n=u",
      flag: { kind: "p", type: "tls-exporter" },
      authzid: "b,c",
      text: "p=tls-exporter,a=b=2Cc,",
      bare: "n=u",
    },
    {
      input: "p=tls-unique,,",
      flag: { kind: "p", type: "tls-unique" },
      authzid: null,
      text: "p=tls-unique,,",
      bare: "",
    },
  ])("parses $input", ({ input, flag, authzid, text, bare }) => {
    expect(parseGs2Header(input)).toEqual({ ok: true, value: { header: { flag, authzid, text }, bare } });
  });

  it.each(["", "n", "n,", "N,,", "p,,", "p=,,", "p=a_b,,", "n,b=x,", "n,a=,", "F,n,,"])(
    "refuses %j",
    (input) => {
      expect(parseGs2Header(input).ok).toBe(false);
    },
  );

  it("formats what it parses", () => {
    expect(formatGs2Header({ kind: "p", type: "tls-exporter" }, "a,b")).toBe("p=tls-exporter,a=a=2Cb,");
    expect(formatGs2Header({ kind: "n" }, null)).toBe("n,,");
    expect(formatGs2Header({ kind: "y" }, null)).toBe("y,,");
  });
});
