import { describe, expect, it } from "vitest";
import { deriveScramRecord, type ScramRecord } from "./scram-record.ts";
import { verifyPassword } from "./verify-password.ts";

describe("verifyPassword", async () => {
  const record = await deriveScramRecord("correct horse");
  const unicode = await deriveScramRecord("caf\u00e9");

  const cases: { name: string; record: ScramRecord | null; password: string; want: boolean }[] = [
    { name: "right password", record, password: "correct horse", want: true },
    { name: "wrong password", record, password: "correct horsE", want: false },
    { name: "prefix of the password", record, password: "correct", want: false },
    { name: "empty password", record, password: "", want: false },
    { name: "control character", record, password: "correct horse\u0000", want: false },
    { name: "unknown user", record: null, password: "correct horse", want: false },
    { name: "unknown user, empty password", record: null, password: "", want: false },
    {
      name: "other normalization form of the same password",
      record: unicode,
      password: "cafe\u0301",
      want: true,
    },
  ];
  for (const c of cases) {
    it(c.name, async () => expect(await verifyPassword(c.record, c.password)).toBe(c.want));
  }

  it("checks the RFC 7677 record with its password", async () => {
    const rfc: ScramRecord = {
      mechanism: "SCRAM-SHA-256",
      salt: "W22ZaJ0SNY7soEsUEjb6gQ==",
      iterations: 4096,
      storedKey: "WG5d8oPm3OtcPnkdi4Uo7BkeZkBFzpcXkuLmtbsT4qY=",
      serverKey: "wfPLwcE6nTWhTAmQ7tl2KeoiWGPlZqQxSrmfPwDl2dU=",
    };
    expect(await verifyPassword(rfc, "pencil")).toBe(true);
    expect(await verifyPassword(rfc, "pencil ")).toBe(false);
  });

  it("throws for a corrupt stored record instead of answering", async () => {
    await expect(verifyPassword({ ...record, storedKey: "AAAA" }, "correct horse")).rejects.toMatchObject({
      code: "ERR_SCRAM_RECORD",
    });
  });
});
