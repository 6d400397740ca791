// Interop with a SASL implementation no one here wrote: GNU SASL's `gsasl` client (Debian package
// gsasl) against Postern's mechanisms, through the HTTP SASL endpoint of a gateway started as
// `npm run dev` starts it.
import { execFileSync } from "node:child_process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningGateway, startGateway } from "../gateway/start-gateway.ts";
import { runGsasl, type ServerStep } from "./gsasl-driver.ts";

const LOGIN = "gsasl-user@example.com";
const PASSWORD = "gsasl interop password";
const HOSTNAME = "postern.localdomain"; // myhostname: DIGEST-MD5's realm and digest-uri host

function requireGsasl(): void {
  try {
    execFileSync("gsasl", ["--version"], { stdio: "ignore" });
  } catch {
    throw new Error("gsasl is not installed: apt-get install gsasl (.ci/run installs it)");
  }
}

let gateway: RunningGateway;

beforeAll(async () => {
  requireGsasl();
  gateway = await startGateway();
  await gateway.admin("POST", "/accounts", { login: LOGIN, password: PASSWORD, shared_secret: true });
}, 90_000);

afterAll(async () => {
  await gateway?.stop();
});

function endpoint(mechanism: string): ServerStep {
  let continuation: string | undefined;
  return async (response) => {
    const res = await fetch(`${gateway.url}/v1/auth/sasl`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(
        continuation === undefined
          ? { mechanism, response: response === null ? null : response || "=" }
          : { continuation, response: response || "=" },
      ),
    });
    const body = (await res.json()) as Record<string, string | null>;
    if (res.status === 200 && body.status === "continue") {
      continuation = body.continuation!;
      return { kind: "continue", challenge: body.challenge! };
    }
    if (res.status === 200 && body.status === "authenticated")
      return { kind: "done", final: body.final ?? null };
    return { kind: "failed", detail: `${res.status} ${JSON.stringify(body)}` };
  };
}

const args = (mechanism: string, password: string) => [
  "--mechanism",
  mechanism,
  "--authentication-id",
  LOGIN,
  "--password",
  password,
  "--service",
  "smtp",
  "--hostname",
  HOSTNAME,
  "--realm",
  HOSTNAME,
  "--quality-of-protection",
  "qop-auth",
];

describe("gsasl client against Postern's HTTP SASL endpoint", () => {
  it.each(["SCRAM-SHA-256", "SCRAM-SHA-1", "CRAM-MD5", "DIGEST-MD5", "PLAIN", "LOGIN"])(
    "%s: gsasl authenticates, and a wrong password is refused",
    async (mechanism) => {
      const ok = await runGsasl(args(mechanism, PASSWORD), endpoint(mechanism));
      expect(ok.server, ok.transcript.join("\n")).toBe("authenticated");
      expect(ok.clientFinished, ok.transcript.join("\n")).toBe(true);
      expect(ok.exitCode, ok.transcript.join("\n")).toBe(0);
      if (mechanism.startsWith("SCRAM") || mechanism === "DIGEST-MD5") {
        // gsasl checked the server's proof (v= / rspauth=): mutual authentication worked.
        expect(ok.serverTrusted).toBe(true);
      }
      const bad = await runGsasl(args(mechanism, "wrong password"), endpoint(mechanism));
      expect(bad.server, bad.transcript.join("\n")).toBe("failed");
    },
    30_000,
  );
});
