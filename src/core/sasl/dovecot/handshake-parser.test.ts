import { describe, expect, it } from "vitest";
import { HandshakeParser, type HandshakeProgress } from "./handshake-parser.ts";
import { splitTabEscaped } from "./tab-escape.ts";

function run(lines: string[]): HandshakeProgress {
  const parser = new HandshakeParser();
  let progress: HandshakeProgress = { kind: "more" };
  for (const line of lines) {
    progress = parser.feed(splitTabEscaped(line));
    if (progress.kind !== "more") break;
  }
  return progress;
}

// What Dovecot 2.3.19 sends, captured with
// `auth_mechanisms = plain login cram-md5 scram-sha-1 scram-sha-256`.
const DOVECOT_23 = [
  "VERSION\t1\t2",
  "MECH\tPLAIN\tplaintext",
  "MECH\tLOGIN\tplaintext",
  "MECH\tCRAM-MD5\tdictionary\tactive",
  "MECH\tSCRAM-SHA-1\tmutual-auth",
  "MECH\tSCRAM-SHA-256\tmutual-auth",
  "SPID\t27719",
  "CUID\t1",
  "COOKIE\t9f33a363642e3a7edc8386a5f28367ab",
  "DONE",
];

describe("HandshakeParser", () => {
  it("reads Dovecot 2.3's handshake", () => {
    const progress = run(DOVECOT_23);
    if (progress.kind !== "done") throw new Error(JSON.stringify(progress));
    const { handshake } = progress;
    expect(handshake.version).toEqual({ major: 1, minor: 2 });
    expect(handshake.serverPid).toBe("27719");
    expect(handshake.connectionId).toBe("1");
    expect(handshake.cookie).toBe("9f33a363642e3a7edc8386a5f28367ab");
    expect(handshake.mechanisms.map((m) => m.name)).toEqual([
      "PLAIN",
      "LOGIN",
      "CRAM-MD5",
      "SCRAM-SHA-1",
      "SCRAM-SHA-256",
    ]);
    expect(handshake.mechanisms[2]?.properties).toEqual({
      plaintext: false,
      active: true,
      dictionary: true,
      anonymous: false,
      mutualAuth: false,
      forwardSecrecy: false,
      channelBinding: false,
      external: false,
    });
  });

  const cases: {
    name: string;
    lines: string[];
    want: Partial<HandshakeProgress> | { mechanisms: string[] };
  }[] = [
    {
      name: "the documented order (SPID, CUID, COOKIE before MECH) works too",
      lines: ["VERSION\t1\t1", "SPID\t1", "CUID\t2", "COOKIE\tc", "MECH\tPLAIN\tplaintext", "DONE"],
      want: { mechanisms: ["PLAIN"] },
    },
    {
      name: "a newer minor version is fine",
      lines: ["VERSION\t1\t9", "MECH\tPLAIN", "DONE"],
      want: { mechanisms: ["PLAIN"] },
    },
    {
      name: "unknown lines and flags are ignored",
      lines: ["VERSION\t1\t2", "HELLO\tthere", "MECH\tPLAIN\tplaintext\tshiny", "FOO", "DONE"],
      want: { mechanisms: ["PLAIN"] },
    },
    {
      name: "private mechanisms are not offered",
      lines: ["VERSION\t1\t2", "MECH\tAPOP\tprivate\tdictionary", "MECH\tPLAIN\tplaintext", "DONE"],
      want: { mechanisms: ["PLAIN"] },
    },
    {
      name: "a repeated mechanism is listed once",
      lines: ["VERSION\t1\t2", "MECH\tPLAIN", "MECH\tplain", "DONE"],
      want: { mechanisms: ["PLAIN"] },
    },
    {
      name: "no mechanisms at all is not an error (AUTH is then not offered)",
      lines: ["VERSION\t1\t2", "DONE"],
      want: { mechanisms: [] },
    },
    {
      name: "another major version is refused",
      lines: ["VERSION\t2\t0", "MECH\tPLAIN", "DONE"],
      want: { kind: "error", reason: "Protocol version mismatch (2 vs. 1)" },
    },
    {
      name: "a malformed version is refused",
      lines: ["VERSION\tone\ttwo"],
      want: { kind: "error", reason: "Protocol version error" },
    },
    {
      name: "a version without minor is refused",
      lines: ["VERSION\t1"],
      want: { kind: "error", reason: "Protocol version error" },
    },
    {
      name: "DONE without VERSION is refused",
      lines: ["MECH\tPLAIN", "DONE"],
      want: { kind: "error", reason: "handshake ended without a VERSION line" },
    },
    {
      name: "MECH without a name is refused",
      lines: ["VERSION\t1\t2", "MECH"],
      want: { kind: "error", reason: "MECH line without a mechanism name" },
    },
  ];
  for (const { name, lines, want } of cases) {
    it(name, () => {
      const progress = run(lines);
      if ("mechanisms" in want) {
        if (progress.kind !== "done") throw new Error(JSON.stringify(progress));
        expect(progress.handshake.mechanisms.map((m) => m.name)).toEqual(want.mechanisms);
      } else {
        expect(progress).toEqual(want);
      }
    });
  }

  it("maps every Dovecot flag, in any case", () => {
    const progress = run([
      "VERSION\t1\t2",
      "MECH\tX-ALL\tPlaintext\tACTIVE\tdictionary\tanonymous\tmutual-auth\tforward-secrecy",
      "MECH\tSCRAM-SHA-256-PLUS\tmutual-auth",
      "MECH\tEXTERNAL",
      "DONE",
    ]);
    if (progress.kind !== "done") throw new Error(JSON.stringify(progress));
    const [all, plus, external] = progress.handshake.mechanisms;
    expect(all?.properties).toMatchObject({
      plaintext: true,
      active: true,
      dictionary: true,
      anonymous: true,
      mutualAuth: true,
      forwardSecrecy: true,
    });
    expect(plus?.properties).toMatchObject({ mutualAuth: true, channelBinding: true, external: false });
    expect(external?.properties).toMatchObject({ external: true, channelBinding: false });
  });

  it("tells the auth-master socket by its SPID without MECH lines", () => {
    const parser = new HandshakeParser();
    parser.feed(["VERSION", "1", "2"]);
    parser.feed(["SPID", "42"]);
    expect(parser.looksLikeMasterSocket).toBe(true);
  });
});
