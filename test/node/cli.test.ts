// The operator tools of src/cli against a gateway started as `npm run dev` does.
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { genAuth } from "../../src/cli/gen-auth.ts";
import { testSaslAuth } from "../../src/cli/testsaslauthd.ts";
import { GATEWAY_ADMIN_TOKEN, type RunningGateway, startGateway } from "../gateway/start-gateway.ts";

const run = promisify(execFile);
const LOGIN = "cli-user@example.com";
const PASSWORD = "cli user password";
let gateway: RunningGateway;

beforeAll(async () => {
  gateway = await startGateway();
  await gateway.admin("POST", "/accounts", { login: LOGIN, password: PASSWORD, shared_secret: true });
}, 90_000);

afterAll(async () => {
  await gateway?.stop();
});

describe("gen-auth", () => {
  it("prints what RFC 4616 and the LOGIN and XOAUTH2 conventions put on the wire", () => {
    expect(genAuth("plain", "tim", "tanstaaftanstaaf")).toEqual(["AHRpbQB0YW5zdGFhZnRhbnN0YWFm"]);
    expect(genAuth("plain", "tim", "pw", "admin")).toEqual([
      Buffer.from("admin\0tim\0pw").toString("base64"),
    ]);
    expect(genAuth("login", "alice", "secret")).toEqual(["YWxpY2U=", "c2VjcmV0"]);
    expect(Buffer.from(genAuth("xoauth2", "a@b.example", "tok")[0]!, "base64").toString()).toBe(
      "user=a@b.example\x01auth=Bearer tok\x01\x01",
    );
  });
});

describe("testsaslauthd", () => {
  it.each(["PLAIN", "LOGIN", "SCRAM-SHA-256", "SCRAM-SHA-1", "CRAM-MD5", "DIGEST-MD5"])(
    "%s: 0: OK for the right password, 0: NO for a wrong one",
    async (mechanism) => {
      const base = {
        baseUrl: gateway.url,
        user: LOGIN,
        mechanism,
        service: "smtp",
        hostname: "postern.localdomain",
      };
      const ok = await testSaslAuth({ ...base, password: PASSWORD });
      expect(ok.line, ok.detail).toBe('0: OK "Success."');
      if (mechanism.startsWith("SCRAM") || mechanism === "DIGEST-MD5") expect(ok.serverVerified).toBe(true);
      const bad = await testSaslAuth({ ...base, password: "wrong" });
      expect(bad.line).toBe('0: NO "authentication failed"');
    },
  );

  it("runs as a command with testsaslauthd's flags and exit status", async () => {
    const env = { ...process.env, POSTERN_URL: gateway.url, POSTERN_ADMIN_TOKEN: GATEWAY_ADMIN_TOKEN };
    const ok = await run(
      process.execPath,
      ["src/cli/admin.ts", "testsaslauthd", "-u", LOGIN, "-p", PASSWORD],
      { env },
    );
    expect(ok.stdout.trim()).toBe('0: OK "Success."');
    const bad = await run(
      process.execPath,
      ["src/cli/admin.ts", "testsaslauthd", "-u", LOGIN, "-p", "nope", "-m", "SCRAM-SHA-256"],
      {
        env,
      },
    ).catch((error: { code: number; stdout: string }) => error);
    expect(bad.stdout.trim()).toBe('0: NO "authentication failed"');
    expect((bad as { code: number }).code).toBe(1);
  });
});

describe("templates, receivers and endpoints from the command line", () => {
  it("template set / show, receiver add, endpoint add and events", async () => {
    const env = { ...process.env, POSTERN_URL: gateway.url, POSTERN_ADMIN_TOKEN: GATEWAY_ADMIN_TOKEN };
    const admin = async (...args: string[]) =>
      JSON.parse((await run(process.execPath, ["src/cli/admin.ts", ...args], { env })).stdout) as Record<
        string,
        unknown
      >;
    const dir = mkdtempSync(path.join(tmpdir(), "postern-cli-"));
    try {
      writeFileSync(path.join(dir, "t.txt"), "Hello {{ name }}");
      writeFileSync(path.join(dir, "t.html"), "<p>Hello {{ name }}</p>");
      const args = ["--subject", "Hi {{ name }}", "--text-file", path.join(dir, "t.txt")];
      await admin("template", "set", LOGIN, "welcome", ...args, "--html-file", path.join(dir, "t.html"));
      expect(await admin("template", "show", LOGIN, "welcome")).toMatchObject({
        name: "welcome",
        subject: "Hi {{ name }}",
        text: "Hello {{ name }}",
        html: "<p>Hello {{ name }}</p>",
      });
      const receiver = await admin(
        "receiver",
        "add",
        LOGIN,
        "supabase",
        "--config",
        JSON.stringify({ from: LOGIN }),
      );
      expect(receiver).toMatchObject({ kind: "supabase", secret: expect.stringMatching(/^whsec_/) });
      expect(receiver.path).toBe(`/v1/webhooks/${receiver.id}`);
      const endpoint = await admin(
        "endpoint",
        "add",
        LOGIN,
        "https://hooks.example.com/postern",
        "--events",
        "message.sent,message.bounced",
      );
      expect(endpoint).toMatchObject({ events: ["message.sent", "message.bounced"], disabled: false });
      expect(await admin("endpoint", "events", endpoint.id as string)).toEqual({ events: [] });
      const bad = await run(
        process.execPath,
        ["src/cli/admin.ts", "endpoint", "add", LOGIN, "https://x.example", "--events", "message.nope"],
        { env },
      ).catch((error: { code: number; stderr: string }) => error);
      expect((bad as { code: number }).code).toBe(2);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    // Six CLI processes, each a Node start-up: slow on a loaded machine, and no timing is asserted.
  }, 60_000);
});
