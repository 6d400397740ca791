import { describe, expect, it } from "vitest";
import { parseReply } from "../reply.ts";
import { type Capabilities, HELO_CAPABILITIES, parseCapabilities } from "./capabilities.ts";

const ehlo = (...keywords: string[]) =>
  parseReply(
    ["mx.example Hello", ...keywords].map((k, i, all) => `250${i < all.length - 1 ? "-" : " "}${k}`),
  )!;

describe("parseCapabilities", () => {
  const none = { ...HELO_CAPABILITIES, esmtp: true };
  const cases: { name: string; keywords: string[]; want: Partial<Capabilities> }[] = [
    { name: "greeting line only", keywords: [], want: none },
    {
      name: "Postfix submission",
      keywords: [
        "PIPELINING",
        "SIZE 10240000",
        "ETRN",
        "STARTTLS",
        "ENHANCEDSTATUSCODES",
        "8BITMIME",
        "DSN",
        "SMTPUTF8",
        "CHUNKING",
      ],
      want: {
        pipelining: true,
        size: 10240000,
        startTls: true,
        enhancedStatusCodes: true,
        eightBitMime: true,
        smtputf8: true,
        auth: [],
      },
    },
    {
      name: "keywords are case-insensitive",
      keywords: ["pipelining", "starttls"],
      want: { pipelining: true, startTls: true },
    },
    { name: "SIZE without a limit", keywords: ["SIZE"], want: { size: 0 } },
    { name: "SIZE with garbage", keywords: ["SIZE lots"], want: { size: 0 } },
    { name: "no SIZE", keywords: ["PIPELINING"], want: { size: null } },
    {
      name: "AUTH mechanisms, upper-cased",
      keywords: ["AUTH plain LOGIN XOAUTH2"],
      want: { auth: ["PLAIN", "LOGIN", "XOAUTH2"] },
    },
    {
      name: "AUTH= (old Outlook form) merges with AUTH",
      keywords: ["AUTH PLAIN LOGIN", "AUTH=PLAIN LOGIN CRAM-MD5"],
      want: { auth: ["PLAIN", "LOGIN", "CRAM-MD5"] },
    },
    { name: "AUTH with no mechanism is no AUTH", keywords: ["AUTH"], want: { auth: [] } },
    {
      name: "a keyword must match whole",
      keywords: ["PIPELININGX", "STARTTLSX"],
      want: { pipelining: false, startTls: false },
    },
  ];
  for (const { name, keywords, want } of cases) {
    it(name, () => expect(parseCapabilities(ehlo(...keywords))).toMatchObject(want));
  }

  it("never reads a keyword from the greeting line", () => {
    const reply = parseReply(["250-STARTTLS", "250 PIPELINING"])!;
    expect(parseCapabilities(reply)).toMatchObject({ startTls: false, pipelining: true });
  });
});
