import { describe, expect, it } from "vitest";
import { isAuthorizedDestination } from "./authorized-destination.ts";

const LOCAL = ["example.com"];
const RELAY = ["relay.test", ".sub.test"];

describe("isAuthorizedDestination", () => {
  const cases = [
    { name: "mydestination", input: "a@example.com", want: true },
    { name: "mydestination, other case", input: "a@EXAMPLE.Com", want: true },
    { name: "mydestination, absolute name", input: "a@example.com.", want: true },
    { name: "mydestination does not cover subdomains", input: "a@mail.example.com", want: false },
    { name: "relay_domains", input: "a@relay.test", want: true },
    { name: "relay_domains covers subdomains", input: "a@deep.relay.test", want: true },
    { name: "relay_domains is not a suffix match", input: "a@notrelay.test", want: false },
    { name: "a .domain entry covers subdomains", input: "a@x.sub.test", want: true },
    { name: "a .domain entry does not cover the domain itself", input: "a@sub.test", want: false },
    { name: "remote domain", input: "a@elsewhere.test", want: false },
    {
      name: "routing with @ in a quoted local part",
      input: '"victim@elsewhere.test"@example.com',
      want: false,
    },
    { name: "percent hack", input: "victim%elsewhere.test@example.com", want: false },
    { name: "bang path", input: "elsewhere.test!victim@example.com", want: false },
    { name: "no domain", input: "postmaster", want: false },
    { name: "empty", input: "", want: false },
  ];
  for (const { name, input, want } of cases) {
    it(name, () => expect(isAuthorizedDestination(input, LOCAL, RELAY)).toBe(want));
  }
});
