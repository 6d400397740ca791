import { describe, expect, it } from "vitest";
import { formatReply, fromSmtpReply, REPLIES, type ServerReply } from "./replies.ts";

describe("formatReply", () => {
  const cases: { name: string; reply: ServerReply; want: string }[] = [
    { name: "one line with an enhanced code", reply: REPLIES.ok, want: "250 2.0.0 Ok\r\n" },
    {
      name: "the greeting has none (RFC 2034 §3)",
      reply: REPLIES.greeting("mx"),
      want: "220 mx ESMTP Postern\r\n",
    },
    { name: "an empty challenge is '334 '", reply: REPLIES.challenge(""), want: "334 \r\n" },
    {
      name: "several lines: dashes, then a space",
      reply: { code: 250, enhanced: "", lines: ["mx", "PIPELINING", "CHUNKING"] },
      want: "250-mx\r\n250-PIPELINING\r\n250 CHUNKING\r\n",
    },
    {
      name: "a policy reply",
      reply: fromSmtpReply({ code: 554, enhanced: "5.7.1", text: "<a@b>: Relay access denied" }),
      want: "554 5.7.1 <a@b>: Relay access denied\r\n",
    },
  ];
  for (const { name, reply, want } of cases) {
    it(name, () => expect(formatReply(reply)).toBe(want));
  }
});

describe("REPLIES", () => {
  it("every 2xx/4xx/5xx reply but the greeting and HELO carries an enhanced code of its class", () => {
    const exempt = new Set(["greeting", "helo", "challenge", "startData"]);
    for (const [name, entry] of Object.entries(REPLIES)) {
      const reply: ServerReply =
        typeof entry === "function" ? (entry as (...args: unknown[]) => ServerReply)(550, "LF") : entry;
      if (exempt.has(name)) {
        expect(reply.enhanced, name).toBe("");
        continue;
      }
      expect(reply.enhanced, name).toMatch(/^[245]\.\d{1,3}\.\d{1,3}$/);
      expect(reply.enhanced[0], name).toBe(String(reply.code)[0]);
    }
  });

  it("the bare newline reply follows the configured code's class", () => {
    expect(formatReply(REPLIES.bareNewline(450, "LF"))).toBe("450 4.5.2 Error: bare <LF> received\r\n");
  });
});
