import { describe, expect, it } from "vitest";
import { type ReceivedInput, receivedHeader } from "./received-header.ts";

const base: ReceivedInput = {
  helo: "c.example",
  client: { address: "192.0.2.1", name: "client.example" },
  authenticatedSender: null,
  hostname: "mx.example",
  protocol: "ESMTPSA",
  queueId: "01JABC",
  recipients: ["bob@example.net"],
  date: new Date(Date.UTC(2025, 6, 1, 9, 5, 0)),
};

describe("receivedHeader", () => {
  const cases: { name: string; input: Partial<ReceivedInput>; want: string[] }[] = [
    {
      name: "one recipient: 'for' with the date",
      input: {},
      want: [
        "Received: from c.example (client.example [192.0.2.1])",
        "\tby mx.example (Postern) with ESMTPSA id 01JABC",
        "\tfor <bob@example.net>; Tue, 01 Jul 2025 09:05:00 +0000",
      ],
    },
    {
      name: "several recipients: no 'for'",
      input: { recipients: ["a@example.net", "b@example.net"] },
      want: [
        "Received: from c.example (client.example [192.0.2.1])",
        "\tby mx.example (Postern) with ESMTPSA id 01JABC;",
        "\tTue, 01 Jul 2025 09:05:00 +0000",
      ],
    },
    {
      name: "the authenticated sender comment",
      input: { authenticatedSender: "alice" },
      want: [
        "Received: from c.example (client.example [192.0.2.1])",
        "\t(Authenticated sender: alice)",
        "\tby mx.example (Postern) with ESMTPSA id 01JABC",
        "\tfor <bob@example.net>; Tue, 01 Jul 2025 09:05:00 +0000",
      ],
    },
    {
      name: "an IPv6 client gets the IPv6: tag (RFC 5321 §4.1.3)",
      input: { client: { address: "2001:db8::1", name: "unknown" }, protocol: "ESMTP" },
      want: [
        "Received: from c.example (unknown [IPv6:2001:db8::1])",
        "\tby mx.example (Postern) with ESMTP id 01JABC",
        "\tfor <bob@example.net>; Tue, 01 Jul 2025 09:05:00 +0000",
      ],
    },
    {
      name: "no HELO: the client name stands in",
      input: { helo: null, protocol: "SMTP" },
      want: [
        "Received: from client.example (client.example [192.0.2.1])",
        "\tby mx.example (Postern) with SMTP id 01JABC",
        "\tfor <bob@example.net>; Tue, 01 Jul 2025 09:05:00 +0000",
      ],
    },
    {
      name: "control characters in client-supplied parts are replaced",
      input: { helo: "a\r\nB: c", authenticatedSender: "x\ny" },
      want: [
        "Received: from a??B: c (client.example [192.0.2.1])",
        "\t(Authenticated sender: x?y)",
        "\tby mx.example (Postern) with ESMTPSA id 01JABC",
        "\tfor <bob@example.net>; Tue, 01 Jul 2025 09:05:00 +0000",
      ],
    },
  ];
  for (const { name, input, want } of cases) {
    it(name, () => expect(receivedHeader({ ...base, ...input })).toBe(`${want.join("\r\n")}\r\n`));
  }
});
