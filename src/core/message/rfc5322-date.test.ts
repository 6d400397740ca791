import { describe, expect, it } from "vitest";
import { formatRfc5322Date, RFC5322_DATE_TIME } from "./rfc5322-date.ts";

describe("Date", () => {
  const formatted = [
    { date: "2025-07-01T09:05:03Z", want: "Tue, 01 Jul 2025 09:05:03 +0000" },
    { date: "1999-12-31T23:59:59Z", want: "Fri, 31 Dec 1999 23:59:59 +0000" },
    { date: "2024-02-29T00:00:00Z", want: "Thu, 29 Feb 2024 00:00:00 +0000" },
  ];
  for (const { date, want } of formatted) {
    it(`formats ${date}`, () => {
      expect(formatRfc5322Date(new Date(date))).toBe(want);
      expect(RFC5322_DATE_TIME.test(want)).toBe(true);
    });
  }
  const accepted = [
    "1 Jul 2025 09:00 +0200",
    "Tue,  1 Jul 2025 09:00:00 -0700",
    "Tue,1 Jul 2025 09:00:60 +0000",
  ];
  const refused = [
    "Tue, 1 Jul 2025 09:00:00 GMT",
    "Tue, 32 Jul 2025 09:00:00 +0000",
    "2025-07-01",
    "Tue, 1 July 2025 09:00 +0000",
  ];
  for (const value of accepted)
    it(`accepts ${value}`, () => expect(RFC5322_DATE_TIME.test(value)).toBe(true));
  for (const value of refused)
    it(`refuses ${value}`, () => expect(RFC5322_DATE_TIME.test(value)).toBe(false));
});
