import { describe, expect, it } from "vitest";
import { base64ToBytes, bytesToBase64 } from "../encoding/base64.ts";
import { AuthError } from "./auth-error.ts";
import { hmacSha256, sha256, utf8 } from "./digest.ts";
import { normalizePassword } from "./normalize-password.ts";
import { scramDigest, scramHmac } from "./scram-hash.ts";
import {
  type CredentialRecord,
  decodeCredentialRecord,
  decodeScramRecord,
  deriveCredentialRecord,
  deriveScramKeys,
  deriveScramRecord,
  type ScramRecord,
  toScramRecord,
} from "./scram-record.ts";

// RFC 7677 §3: the SCRAM-SHA-256 exchange for user "user", password "pencil".
const RFC7677 = {
  password: "pencil",
  salt: "W22ZaJ0SNY7soEsUEjb6gQ==",
  iterations: 4096,
  clientFirstBare: "n=user,r=rOprNGfwEbeRWgbNEkqO",
  serverFirst: "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096",
  clientFinalWithoutProof: "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0",
  clientProof: "dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=",
  serverSignature: "6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=",
  // Implied by the exchange above (checked by the exchange test); pinned to catch regressions.
  storedKey: "WG5d8oPm3OtcPnkdi4Uo7BkeZkBFzpcXkuLmtbsT4qY=",
  serverKey: "wfPLwcE6nTWhTAmQ7tl2KeoiWGPlZqQxSrmfPwDl2dU=",
};
const authMessage = [RFC7677.clientFirstBare, RFC7677.serverFirst, RFC7677.clientFinalWithoutProof].join(",");

const xor = (a: Uint8Array, b: Uint8Array) => a.map((byte, i) => byte ^ b[i]!);

async function rfcRecord(): Promise<ScramRecord> {
  return deriveScramRecord(RFC7677.password, {
    salt: base64ToBytes(RFC7677.salt),
    iterations: RFC7677.iterations,
  });
}

describe("deriveScramRecord: RFC 7677 §3 test vector", () => {
  it("derives keys under which the RFC's client proof verifies (RFC 5802 §3 server check)", async () => {
    const record = decodeScramRecord(await rfcRecord());
    const clientSignature = await hmacSha256(record.storedKey, utf8(authMessage));
    const clientKey = xor(base64ToBytes(RFC7677.clientProof), clientSignature);
    expect(bytesToBase64(await sha256(clientKey))).toBe(bytesToBase64(record.storedKey));
  });

  it("derives a ServerKey that produces the RFC's server signature", async () => {
    const record = decodeScramRecord(await rfcRecord());
    const serverSignature = await hmacSha256(record.serverKey, utf8(authMessage));
    expect(bytesToBase64(serverSignature)).toBe(RFC7677.serverSignature);
  });

  it("computes the client proof the RFC's client sent (client side, from SaltedPassword)", async () => {
    const keys = await deriveScramKeys(RFC7677.password, base64ToBytes(RFC7677.salt), RFC7677.iterations);
    const clientSignature = await hmacSha256(keys.storedKey, utf8(authMessage));
    expect(bytesToBase64(xor(keys.clientKey, clientSignature))).toBe(RFC7677.clientProof);
  });

  it("stores the record fields exactly", async () => {
    expect(await rfcRecord()).toEqual({
      mechanism: "SCRAM-SHA-256",
      salt: RFC7677.salt,
      iterations: 4096,
      storedKey: RFC7677.storedKey,
      serverKey: RFC7677.serverKey,
    });
  });
});

describe("deriveScramRecord", () => {
  it("defaults to 4096 iterations and a fresh 16-byte salt", async () => {
    const [a, b] = await Promise.all([deriveScramRecord("pencil"), deriveScramRecord("pencil")]);
    expect(a.iterations).toBe(4096);
    expect(base64ToBytes(a.salt)).toHaveLength(16);
    expect(a.salt).not.toBe(b.salt);
    expect(a.storedKey).not.toBe(b.storedKey);
  });

  it("accepts the workerd maximum of 100000 iterations", async () => {
    const record = await deriveScramRecord("pencil", { iterations: 100_000 });
    expect(record.iterations).toBe(100_000);
  });

  for (const iterations of [0, 4095, 100_001, 4096.5, Number.NaN]) {
    it(`refuses ${iterations} iterations with ERR_SCRAM_ITERATIONS`, async () => {
      await expect(deriveScramRecord("pencil", { iterations })).rejects.toMatchObject({
        name: "AuthError",
        code: "ERR_SCRAM_ITERATIONS",
      });
    });
  }

  for (const password of ["", "a\u0000b", "tab\there", "del\u007f", "c1\u0085"]) {
    it(`refuses password ${JSON.stringify(password)} with ERR_PASSWORD_INVALID`, async () => {
      await expect(deriveScramRecord(password)).rejects.toBeInstanceOf(AuthError);
      await expect(deriveScramRecord(password)).rejects.toMatchObject({ code: "ERR_PASSWORD_INVALID" });
    });
  }

  it("normalizes with NFKC, so composed and decomposed spellings give the same keys", async () => {
    const salt = new Uint8Array(16);
    const composed = await deriveScramRecord("caf\u00e9", { salt });
    const decomposed = await deriveScramRecord("cafe\u0301", { salt });
    const ligature = await deriveScramRecord("\ufb01sh", { salt }); // "ﬁ" -> "fi"
    const plain = await deriveScramRecord("fish", { salt });
    expect(decomposed.storedKey).toBe(composed.storedKey);
    expect(ligature.storedKey).toBe(plain.storedKey);
  });
});

describe("normalizePassword", () => {
  const cases = [
    { name: "ASCII unchanged", input: "pencil", want: { ok: true, value: "pencil" } },
    { name: "NBSP becomes space (NFKC)", input: "a\u00a0b", want: { ok: true, value: "a b" } },
    { name: "fullwidth folded (NFKC)", input: "\uff41", want: { ok: true, value: "a" } },
    { name: "empty", input: "", want: { ok: false } },
    { name: "NUL", input: "a\u0000", want: { ok: false } },
    { name: "LF", input: "a\nb", want: { ok: false } },
    { name: "lone surrogate", input: "a\ud800", want: { ok: false } },
  ];
  for (const { name, input, want } of cases) {
    it(name, () => expect(normalizePassword(input)).toMatchObject(want));
  }
});

describe("decodeScramRecord", () => {
  const good: ScramRecord = {
    mechanism: "SCRAM-SHA-256",
    salt: RFC7677.salt,
    iterations: 4096,
    storedKey: RFC7677.storedKey,
    serverKey: RFC7677.serverKey,
  };
  const cases: { name: string; record: ScramRecord; code: string }[] = [
    { name: "bad base64", record: { ...good, storedKey: "!!!" }, code: "ERR_SCRAM_RECORD" },
    { name: "short key", record: { ...good, serverKey: "AAAA" }, code: "ERR_SCRAM_RECORD" },
    { name: "empty salt", record: { ...good, salt: "" }, code: "ERR_SCRAM_RECORD" },
    { name: "too many iterations", record: { ...good, iterations: 200_000 }, code: "ERR_SCRAM_ITERATIONS" },
    {
      name: "other mechanism",
      record: { ...good, mechanism: "SCRAM-SHA-1" as "SCRAM-SHA-256" },
      code: "ERR_SCRAM_RECORD",
    },
  ];
  for (const { name, record, code } of cases) {
    it(`throws ${code} for ${name}`, () => {
      expect(() => decodeScramRecord(record)).toThrow(expect.objectContaining({ code }));
    });
  }
});

// RFC 5802 §5: the SCRAM-SHA-1 exchange for user "user", password "pencil".
const RFC5802 = {
  salt: "QSXCR+Q6sek8bf92",
  authMessage: [
    "n=user,r=fyko+d2lbbFgONRv9qkxdawL",
    "r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,s=QSXCR+Q6sek8bf92,i=4096",
    "c=biws,r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j",
  ].join(","),
  clientProof: "v0X8v3Bz2T0CJGbJQyF0X+HI4Ts=",
  serverSignature: "rmF9pqV8S7suAoZWja4dJRkFsKQ=",
};

describe("deriveCredentialRecord: SHA-256 and SHA-1 keys from one password, salt and count", () => {
  it("its SHA-1 keys verify RFC 5802's proof and give its server signature", async () => {
    const record = await deriveCredentialRecord("pencil", {
      salt: base64ToBytes(RFC5802.salt),
      iterations: 4096,
    });
    const keys = decodeCredentialRecord(record, "SHA-1");
    expect(keys.storedKey).toHaveLength(20);
    const signature = await scramHmac("SHA-1", keys.storedKey, utf8(RFC5802.authMessage));
    const clientKey = xor(base64ToBytes(RFC5802.clientProof), signature);
    expect(bytesToBase64(await scramDigest("SHA-1", clientKey))).toBe(bytesToBase64(keys.storedKey));
    const serverSignature = await scramHmac("SHA-1", keys.serverKey, utf8(RFC5802.authMessage));
    expect(bytesToBase64(serverSignature)).toBe(RFC5802.serverSignature);
  });

  it("its SHA-256 keys are exactly RFC 7677's, and its SHA-256 view is deriveScramRecord's", async () => {
    const options = { salt: base64ToBytes(RFC7677.salt), iterations: 4096 };
    const record = await deriveCredentialRecord(RFC7677.password, options);
    expect(record).toMatchObject({
      salt: RFC7677.salt,
      iterations: 4096,
      sha256: { storedKey: RFC7677.storedKey, serverKey: RFC7677.serverKey },
    });
    expect(toScramRecord(record)).toEqual(await deriveScramRecord(RFC7677.password, options));
    expect(record.sha1.storedKey).not.toBe(record.sha256.storedKey);
  });

  it("keeps one salt for both hashes, fresh for every record", async () => {
    const [a, b] = await Promise.all([deriveCredentialRecord("pencil"), deriveCredentialRecord("pencil")]);
    expect(base64ToBytes(a.salt)).toHaveLength(16);
    expect(a.salt).not.toBe(b.salt);
    expect(decodeCredentialRecord(a, "SHA-1").salt).toEqual(decodeCredentialRecord(a, "SHA-256").salt);
  });

  it("refuses what deriveScramRecord refuses", async () => {
    await expect(deriveCredentialRecord("pencil", { iterations: 4095 })).rejects.toMatchObject({
      code: "ERR_SCRAM_ITERATIONS",
    });
    await expect(deriveCredentialRecord("a\u0000b")).rejects.toMatchObject({ code: "ERR_PASSWORD_INVALID" });
    await expect(deriveCredentialRecord("pencil", { salt: new Uint8Array(0) })).rejects.toMatchObject({
      code: "ERR_SCRAM_RECORD",
    });
  });

  it("deriveScramKeys with SHA-1 computes RFC 5802's client proof", async () => {
    const keys = await deriveScramKeys("pencil", base64ToBytes(RFC5802.salt), 4096, "SHA-1");
    expect(keys.saltedPassword).toHaveLength(20);
    const signature = await scramHmac("SHA-1", keys.storedKey, utf8(RFC5802.authMessage));
    expect(bytesToBase64(xor(keys.clientKey, signature))).toBe(RFC5802.clientProof);
  });
});

describe("decodeCredentialRecord", () => {
  const good: CredentialRecord = {
    salt: RFC5802.salt,
    iterations: 4096,
    sha256: { storedKey: RFC7677.storedKey, serverKey: RFC7677.serverKey },
    sha1: { storedKey: bytesToBase64(new Uint8Array(20)), serverKey: bytesToBase64(new Uint8Array(20)) },
  };
  const cases: { name: string; record: CredentialRecord; hash: "SHA-1" | "SHA-256"; code: string }[] = [
    {
      name: "SHA-256 keys where SHA-1 belongs",
      record: { ...good, sha1: good.sha256 },
      hash: "SHA-1",
      code: "ERR_SCRAM_RECORD",
    },
    {
      name: "SHA-1 keys where SHA-256 belongs",
      record: { ...good, sha256: good.sha1 },
      hash: "SHA-256",
      code: "ERR_SCRAM_RECORD",
    },
    {
      name: "bad base64",
      record: { ...good, sha1: { ...good.sha1, serverKey: "!" } },
      hash: "SHA-1",
      code: "ERR_SCRAM_RECORD",
    },
    {
      name: "too few iterations",
      record: { ...good, iterations: 1 },
      hash: "SHA-1",
      code: "ERR_SCRAM_ITERATIONS",
    },
  ];
  for (const { name, record, hash, code } of cases) {
    it(`throws ${code} for ${name}`, () => {
      expect(() => decodeCredentialRecord(record, hash)).toThrow(expect.objectContaining({ code }));
    });
  }

  it("decodes each hash's keys with the shared salt", () => {
    expect(decodeCredentialRecord(good, "SHA-1")).toEqual({
      salt: base64ToBytes(RFC5802.salt),
      iterations: 4096,
      storedKey: new Uint8Array(20),
      serverKey: new Uint8Array(20),
    });
    expect(decodeCredentialRecord(good, "SHA-256").storedKey).toEqual(base64ToBytes(RFC7677.storedKey));
  });
});
