import { describe, expect, it } from "vitest";
import { selfServiceUrlProblem } from "./endpoint-url.ts";

describe("selfServiceUrlProblem", () => {
  const cases: [string, string | null][] = [
    ["https://hooks.example.com/postern", null],
    ["https://93.184.215.14/x", null],
    ["https://203.0.113.7/x", "must not be a reserved address"],
    ["http://hooks.example.com/", "must be https"],
    ["https://user:pw@hooks.example.com/", "must not carry credentials"],
    ["https://localhost/", "must name a public host"],
    ["https://intranet/", "must name a public host"],
    ["https://127.0.0.1/", "must not be a loopback address"],
    ["https://10.1.2.3/", "must not be a private address"],
    ["https://169.254.169.254/latest/meta-data", "must not be a linkLocal address"],
    ["https://[::1]/", "must not be a loopback address"],
    ["https://[::ffff:192.168.0.1]/", "must not be a private address"],
    ["https://[fd00::1]/", "must not be a uniqueLocal address"],
    ["not a url", "not a URL"],
  ];
  for (const [url, want] of cases) it(url, () => expect(selfServiceUrlProblem(url)).toBe(want));
});
