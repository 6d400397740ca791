import { describe, expect, it } from "vitest";
import { parseReply } from "./parse-reply.ts";

const bytes = (text: string) => new TextEncoder().encode(text);

describe("parseReply", () => {
  const cases = [
    {
      name: "OK with user",
      input: "OK\t1\tuser=alice",
      want: { kind: "ok", id: 1, user: "alice", final: null },
    },
    {
      name: "OK with extra fields and final data",
      input: "OK\t7\tuser=bob\toriginal_user=Bob\tresp=dj1hYmM=",
      want: { kind: "ok", id: 7, user: "bob", final: bytes("v=abc") },
    },
    { name: "OK without user", input: "OK\t2", want: { kind: "ok", id: 2, user: null, final: null } },
    {
      name: "escaped user",
      input: "OK\t3\tuser=a\x01tb",
      want: { kind: "ok", id: 3, user: "a\tb", final: null },
    },
    {
      name: "CONT",
      input: "CONT\t3\tVXNlcm5hbWU6",
      want: { kind: "cont", id: 3, challenge: bytes("Username:") },
    },
    {
      name: "CONT with an empty challenge",
      input: "CONT\t6\t",
      want: { kind: "cont", id: 6, challenge: bytes("") },
    },
    {
      name: "FAIL, bare",
      input: "FAIL\t5",
      want: { kind: "fail", id: 5, user: null, reason: null, code: null, temp: false },
    },
    {
      name: "FAIL with user and reason",
      input: "FAIL\t2\tuser=alice\treason=Password expired\tcode=pass_expired",
      want: {
        kind: "fail",
        id: 2,
        user: "alice",
        reason: "Password expired",
        code: "pass_expired",
        temp: false,
      },
    },
    {
      name: "FAIL temp (Dovecot 2.3: code=temp_fail)",
      input: "FAIL\t4\tuser=alice\tcode=temp_fail",
      want: { kind: "fail", id: 4, user: "alice", reason: null, code: "temp_fail", temp: true },
    },
    {
      name: "FAIL temp (older: a temp flag)",
      input: "FAIL\t4\ttemp\treason=db down",
      want: { kind: "fail", id: 4, user: null, reason: "db down", code: null, temp: true },
    },
    { name: "an unknown command", input: "NOTFOUND\t1", want: { kind: "other", command: "NOTFOUND" } },
    { name: "an empty line", input: "", want: { kind: "other", command: "" } },
    { name: "OK without id", input: "OK", want: { kind: "garbage" } },
    { name: "id 0", input: "OK\t0\tuser=a", want: { kind: "garbage" } },
    { name: "non-numeric id", input: "FAIL\tx", want: { kind: "garbage" } },
    { name: "id beyond 32 bits", input: "FAIL\t4294967296", want: { kind: "garbage" } },
    { name: "CONT without data", input: "CONT\t1", want: { kind: "garbage", reason: "CONT without data" } },
    { name: "CONT with bad base64", input: "CONT\t1\t!!!", want: { kind: "garbage" } },
    { name: "CONT with unpadded base64", input: "CONT\t1\tYWI", want: { kind: "garbage" } },
    { name: "OK with bad base64", input: "OK\t1\tuser=a\tresp=***", want: { kind: "garbage" } },
  ];
  for (const { name, input, want } of cases) {
    it(name, () => {
      expect(parseReply(input)).toMatchObject(want);
    });
  }
});
