// Attacks on the credential path: user enumeration by timing, credential smuggling through HTTP
// Basic, an unset admin secret, and sealed secrets moved between rows.
import { describe, expect, it, vi } from "vitest";
import { bytesToBase64 } from "../encoding/base64.ts";
import { checkAdminToken } from "./admin-token.ts";
import { parseBasicAuthorization } from "./basic.ts";
import { deriveScramRecord } from "./scram-record.ts";
import { openSecret, parseKeyRing, sealSecret } from "./secret-box.ts";
import { verifyPassword } from "./verify-password.ts";

const b64 = (text: string) => btoa(String.fromCharCode(...new TextEncoder().encode(text)));

describe("verifyPassword: no user enumeration by timing", async () => {
  const record = await deriveScramRecord("correct horse");
  it("does PBKDF2 work for unknown users too (same derivation count as a known user)", async () => {
    const spy = vi.spyOn(crypto.subtle, "deriveBits");
    try {
      await verifyPassword(null, "x");
      await verifyPassword(record, "\u0000");
      expect(spy).toHaveBeenCalledTimes(2);
      // the dummy record uses the default iteration count, like a record made with defaults
      expect(spy.mock.calls.map(([params]) => (params as { iterations: number }).iterations)).toEqual([
        4096, 4096,
      ]);
    } finally {
      spy.mockRestore();
    }
  });
});

describe("HTTP Basic: no smuggling", () => {
  const attacks = [
    { name: "PLAIN-style authzid (admin NUL user)", credentials: "admin\u0000user:pw" },
    {
      name: "CRLF log-line injection in the user-id",
      credentials: "u\r\nwarning: SASL LOGIN authentication failed:pw",
    },
    { name: "NUL-truncated password", credentials: "user:pw\u0000ignored" },
    { name: "NEL (a C1 control) in the user-id", credentials: "u\u0085:pw" },
  ];
  for (const { name, credentials } of attacks) {
    it(`refuses ${name}`, () => {
      expect(parseBasicAuthorization(`Basic ${b64(credentials)}`)).toMatchObject({ ok: false });
    });
  }
});

describe("admin token: unset is closed", () => {
  for (const expected of [undefined, "", " ", "short"]) {
    it(`expected ${JSON.stringify(expected)} admits nobody, not even the same value`, async () => {
      expect(await checkAdminToken(expected, expected)).toBe(false);
      expect(await checkAdminToken("", expected)).toBe(false);
    });
  }
});

describe("secret box: rows cannot be swapped", async () => {
  const ring = parseKeyRing(`k1:${bytesToBase64(new Uint8Array(32).fill(1))}`);
  const AAD = "smarthost_credentials:[smtp.example.com]:587";
  it("refuses to open under another aad (a row copied elsewhere)", async () => {
    const sealed = await sealSecret(ring, "hunter2", AAD);
    await expect(openSecret(ring, sealed, "smarthost_credentials:[evil.example]:587")).rejects.toMatchObject({
      code: "ERR_SECRET_INTEGRITY",
    });
  });
});
