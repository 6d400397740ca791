import { describe, expect, it } from "vitest";
import { parseUpstreamUrl } from "./upstream-url.ts";

describe("parseUpstreamUrl", () => {
  it.each([
    "https://postern.example.workers.dev",
    "https://gw.example:8443/base/",
    "http://127.0.0.1:8787",
    "http://localhost:8787",
    "http://[::1]:8787",
  ])("accepts %s", (value) => {
    expect(parseUpstreamUrl(value).ok).toBe(true);
  });

  it.each([
    ["http://gw.example", /loopback/],
    ["http://10.0.0.5:8787", /loopback/],
    ["ftp://gw.example", /unsupported scheme/],
    ["gw.example", /not a URL/],
    ["https://user:pw@gw.example", /credentials/],
    ["https://gw.example/?x=1", /query/],
  ])("refuses %s", (value, reason) => {
    const result = parseUpstreamUrl(value);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.reason).toMatch(reason);
  });
});
