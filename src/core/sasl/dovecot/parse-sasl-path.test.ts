import { describe, expect, it } from "vitest";
import { parseSaslPath } from "./parse-sasl-path.ts";

describe("parseSaslPath", () => {
  const good = [
    { input: "inet:127.0.0.1:12345", want: { kind: "inet", host: "127.0.0.1", port: 12345 } },
    { input: "inet:auth.example.com:4000", want: { kind: "inet", host: "auth.example.com", port: 4000 } },
    { input: "inet:[::1]:12345", want: { kind: "inet", host: "::1", port: 12345 } },
    { input: "inet:[192.0.2.1]:1", want: { kind: "inet", host: "192.0.2.1", port: 1 } },
    { input: " inet:localhost:65535 ", want: { kind: "inet", host: "localhost", port: 65535 } },
    {
      input: "/var/spool/postfix/private/auth",
      want: { kind: "unix", path: "/var/spool/postfix/private/auth" },
    },
    { input: "unix:/run/dovecot/auth-client", want: { kind: "unix", path: "/run/dovecot/auth-client" } },
  ];
  for (const { input, want } of good) {
    it(`accepts ${JSON.stringify(input)}`, () => {
      expect(parseSaslPath(input)).toEqual(want);
    });
  }

  it("resolves a relative path against a queue directory when one is given", () => {
    expect(parseSaslPath("private/auth", "/var/spool/postfix/")).toEqual({
      kind: "unix",
      path: "/var/spool/postfix/private/auth",
    });
  });

  const bad = [
    { input: "", message: /empty/ },
    { input: "private/auth", message: /relative path.*\/var\/spool\/postfix\/private\/auth/ },
    { input: "unix:", message: /empty socket path/ },
    { input: "inet:", message: /inet:host:port/ },
    { input: "inet:localhost", message: /inet:host:port/ },
    { input: "inet::12345", message: /invalid host/ },
    { input: "inet:localhost:0", message: /invalid port/ },
    { input: "inet:localhost:65536", message: /invalid port/ },
    { input: "inet:localhost:imap", message: /invalid port/ },
    { input: "inet:localhost:-1", message: /invalid port/ },
    { input: "inet:::1:12345", message: /brackets: inet:\[::1\]:12345/ },
    { input: "inet:[::1]12345", message: /inet:\[address\]:port/ },
    { input: "inet:[::1", message: /inet:\[address\]:port/ },
    { input: "/tmp/a\nb", message: /control character/ },
  ];
  for (const { input, message } of bad) {
    it(`refuses ${JSON.stringify(input)}`, () => {
      expect(() => parseSaslPath(input)).toThrow(
        expect.objectContaining({ code: "ERR_CONFIG", transient: false }),
      );
      expect(() => parseSaslPath(input)).toThrow(message);
    });
  }
});
