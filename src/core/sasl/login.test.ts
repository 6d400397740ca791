import { describe, expect, it } from "vitest";
import { LOGIN } from "./login.ts";
import { runExchange, testContext } from "./memory-credentials.test-helper.ts";

const bytes = (text: string) => new TextEncoder().encode(text);
const text = (data: Uint8Array) => new TextDecoder().decode(data);

const accounts = { alice: { password: "correct horse" }, bob: { password: "hunter2" } };

describe("LOGIN server", () => {
  it("prompts Username: then Password:", async () => {
    const result = await runExchange(
      LOGIN.server,
      LOGIN.client({ authcid: "alice", password: "correct horse" }),
      testContext(accounts),
    );
    expect(result.challenges.map(text)).toEqual(["Username:", "Password:"]);
    expect(result.status).toEqual({ kind: "done", identity: { authcid: "alice", authzid: "alice" } });
  });

  it("takes the username as initial response and skips the first prompt", async () => {
    const ctx = testContext(accounts);
    const start = await LOGIN.server.start(ctx, bytes("alice"));
    expect(start.status.kind === "more" && text(start.status.challenge)).toBe("Password:");
    const done = await LOGIN.server.step(
      ctx,
      JSON.parse(JSON.stringify(start.state)),
      bytes("correct horse"),
    );
    expect(done.status).toMatchObject({ kind: "done", identity: { authcid: "alice" } });
  });

  it("reads an empty initial response as none", async () => {
    const start = await LOGIN.server.start(testContext(accounts), new Uint8Array());
    expect(start.status.kind === "more" && text(start.status.challenge)).toBe("Username:");
  });

  const cases = [
    {
      name: "wrong password",
      creds: { authcid: "alice", password: "wrong" },
      want: { kind: "fail", reason: "authentication failure", login: "alice" },
    },
    {
      name: "unknown user",
      creds: { authcid: "mallory", password: "wrong" },
      want: { kind: "fail", reason: "authentication failure", login: "mallory" },
    },
    {
      name: "empty password",
      creds: { authcid: "alice", password: "" },
      want: { kind: "malformed", reason: "empty password", login: "alice" },
    },
    {
      name: "empty username",
      creds: { authcid: "", password: "x" },
      want: { kind: "malformed", reason: "empty username" },
    },
    {
      name: "NUL in username",
      creds: { authcid: "ali\0ce", password: "x" },
      want: { kind: "malformed", reason: "NUL in username" },
    },
    {
      name: "username over 255 octets",
      creds: { authcid: "u".repeat(256), password: "x" },
      want: { kind: "malformed" },
    },
    {
      name: "password over 255 octets",
      creds: { authcid: "alice", password: "p".repeat(256) },
      want: { kind: "malformed", login: "alice" },
    },
  ];
  for (const { name, creds, want } of cases) {
    it(name, async () => {
      const result = await runExchange(LOGIN.server, LOGIN.client(creds), testContext(accounts));
      expect(result.status).toMatchObject(want);
    });
  }

  it("fails on a state it did not make", async () => {
    const step = await LOGIN.server.step(testContext(accounts), { stage: "password" }, bytes("x"));
    expect(step.status.kind).toBe("fail");
  });

  it("does not keep the password in the state", async () => {
    const ctx = testContext(accounts);
    const start = await LOGIN.server.start(ctx, null);
    const asked = await LOGIN.server.step(ctx, start.state ?? {}, bytes("alice"));
    expect(asked.state).toEqual({ stage: "password", username: "alice" });
  });
});

describe("LOGIN client", () => {
  it("answers by position and gives up on a third prompt", async () => {
    const client = LOGIN.client({ authcid: "alice", password: "pw" });
    expect(await client.start()).toBeNull();
    const answers = [];
    for (const prompt of ["User Name\0", "Password:", "Again:"]) {
      answers.push(await client.step(bytes(prompt)));
    }
    expect(answers.map((a) => (a.kind === "respond" ? text(a.response) : a.kind))).toEqual([
      "alice",
      "pw",
      "fail",
    ]);
  });

  it("refuses an authorization identity LOGIN cannot carry", async () => {
    const client = LOGIN.client({ authcid: "alice", authzid: "bob", password: "pw" });
    expect((await client.step(bytes("Username:"))).kind).toBe("fail");
  });
});
