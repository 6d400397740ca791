import { describe, expect, it } from "vitest";
import { matchNetwork, parseNetworkList } from "./network-list.ts";

describe("matchNetwork", () => {
  const cases = [
    // IPv4
    { name: "host address", input: { list: "192.0.2.1", ip: "192.0.2.1" }, want: true },
    { name: "host address, other host", input: { list: "192.0.2.1", ip: "192.0.2.2" }, want: false },
    { name: "network", input: { list: "127.0.0.0/8 192.168.1.0/24", ip: "192.168.1.77" }, want: true },
    { name: "outside the network", input: { list: "192.168.1.0/24", ip: "192.168.2.1" }, want: false },
    { name: "/0 is everyone", input: { list: "0.0.0.0/0", ip: "203.0.113.9" }, want: true },
    { name: "/32", input: { list: "203.0.113.9/32", ip: "203.0.113.9" }, want: true },
    { name: "empty list trusts nobody", input: { list: "", ip: "127.0.0.1" }, want: false },
    // negation: first match wins
    {
      name: "excluded host before its network",
      input: { list: "!192.168.0.1, 192.168.0.0/28", ip: "192.168.0.1" },
      want: false,
    },
    {
      name: "rest of the network still matches",
      input: { list: "!192.168.0.1, 192.168.0.0/28", ip: "192.168.0.2" },
      want: true,
    },
    {
      name: "exclusion after a match is too late",
      input: { list: "192.168.0.0/28 !192.168.0.1", ip: "192.168.0.1" },
      want: true,
    },
    { name: "exclusion alone matches nobody", input: { list: "!10.0.0.0/8", ip: "10.1.1.1" }, want: false },
    // IPv6
    { name: "[v6] host", input: { list: "[::1]", ip: "::1" }, want: true },
    { name: "[v6]/n", input: { list: "[2001:db8::]/32", ip: "2001:db8:1::5" }, want: true },
    { name: "[v6]/n outside", input: { list: "[2001:db8::]/32", ip: "2001:db9::5" }, want: false },
    { name: "bare v6 accepted", input: { list: "2001:db8::/48", ip: "2001:db8:0:1::1" }, want: true },
    { name: "v6 written differently", input: { list: "[2001:DB8:0:0::1]", ip: "2001:db8::1" }, want: true },
    { name: "negated v6", input: { list: "![2001:db8::1] [2001:db8::]/64", ip: "2001:db8::1" }, want: false },
    // IPv4-mapped IPv6 clients
    {
      name: "mapped client matches an IPv4 network",
      input: { list: "192.168.1.0/24", ip: "::ffff:192.168.1.5" },
      want: true,
    },
    {
      name: "mapped client outside the IPv4 network",
      input: { list: "192.168.1.0/24", ip: "::ffff:192.168.2.5" },
      want: false,
    },
    {
      name: "mapped client excluded by an IPv4 exclusion",
      input: { list: "!192.168.1.5 192.168.1.0/24", ip: "::ffff:192.168.1.5" },
      want: false,
    },
    {
      name: "IPv4 client matches a mapped pattern",
      input: { list: "[::ffff:192.168.1.0]/120", ip: "192.168.1.5" },
      want: true,
    },
    {
      name: "IPv4 pattern does not match a plain v6 client",
      input: { list: "0.0.0.0/0", ip: "2001:db8::1" },
      want: false,
    },
    { name: "v6 ::/0 does match IPv4 (as mapped)", input: { list: "[::]/0", ip: "192.0.2.1" }, want: true },
    // odd client addresses
    { name: "bracketed client address", input: { list: "[::1]", ip: "[::1]" }, want: true },
    { name: "garbage client address", input: { list: "0.0.0.0/0", ip: "not-an-ip" }, want: false },
    {
      name: "short-form IPv4 client is not an address",
      input: { list: "0.0.0.0/0", ip: "127.1" },
      want: false,
    },
    { name: "empty client address", input: { list: "0.0.0.0/0", ip: "" }, want: false },
  ];
  for (const { name, input, want } of cases) {
    it(name, () => expect(matchNetwork(parseNetworkList(input.list), input.ip)).toBe(want));
  }
});

describe("parseNetworkList", () => {
  it("keeps the patterns in order, with what was written", () => {
    const list = parseNetworkList("127.0.0.0/8, ![::1] [2001:db8::]/32");
    expect(list.map((p) => [p.source, p.negate, p.family, p.prefix])).toEqual([
      ["127.0.0.0/8", false, "ipv4", 8],
      ["![::1]", true, "ipv6", 128],
      ["[2001:db8::]/32", false, "ipv6", 32],
    ]);
  });

  it("names the parameter it parses in errors", () => {
    expect(() => parseNetworkList("bogus", "smtpd_sasl_exceptions_networks")).toThrow(
      /^smtpd_sasl_exceptions_networks: bad pattern "bogus"/,
    );
  });

  const errors = [
    {
      name: "host bits set",
      input: "192.168.1.1/24",
      want: /non-null host address bits in "192.168.1.1\/24", perhaps you should use "192.168.1.0\/24"/,
    },
    {
      name: "host bits set, v6",
      input: "[2001:db8::1]/32",
      want: /perhaps you should use "\[2001:db8::\]\/32"/,
    },
    { name: "prefix too long", input: "10.0.0.0/33", want: /bad prefix length/ },
    { name: "prefix too long, v6", input: "[::]/129", want: /bad prefix length/ },
    { name: "prefix not a number", input: "10.0.0.0/x", want: /bad prefix length/ },
    { name: "empty prefix", input: "10.0.0.0/", want: /bad prefix length/ },
    {
      name: "host name",
      input: "mail.example.com",
      want: /host names, \/file\/name and type:table are not supported/,
    },
    { name: "type:table", input: "cidr:/etc/postfix/network_table", want: /not supported/ },
    { name: "/file/name", input: "/etc/postfix/mynetworks", want: /not supported/ },
    { name: "short-form IPv4", input: "10/8", want: /bad pattern "10\/8"/ },
    { name: "leading zeros", input: "010.0.0.1", want: /bad pattern/ },
    { name: "IPv4 in brackets", input: "[192.0.2.1]", want: /only IPv6 addresses go inside \[\]/ },
    { name: "unclosed bracket", input: "[::1", want: /missing "]"/ },
    { name: "text after bracket", input: "[::1]x", want: /unexpected text after "]"/ },
    { name: "zone id", input: "[fe80::1%eth0]", want: /bad pattern/ },
    { name: "lone !", input: "!", want: /bad pattern "!"/ },
    { name: "one bad entry spoils the list", input: "127.0.0.0/8 localhost", want: /"localhost"/ },
  ];
  for (const { name, input, want } of errors) {
    it(`rejects: ${name}`, () => {
      expect(() => parseNetworkList(input)).toThrow(want);
      expect(() => parseNetworkList(input)).toThrow(expect.objectContaining({ code: "ERR_CONFIG" }));
    });
  }
});
