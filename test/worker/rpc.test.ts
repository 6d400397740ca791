// env.POSTERN.send(...) from another Worker over a real service binding (the client-app Worker of
// vitest.config.ts), as the account its props name: same policy and answers as POST /v1/messages.
import { env } from "cloudflare:workers";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { admin, basic, resetParameters, setParameters, sink, status } from "./helpers.ts";

const LOGIN = "rpc-app@example.com";
const PASSWORD = "rpc-app-password-123";

/** What the RPC methods answer (send, sendBatch and status share the envelope). */
interface RpcResult {
  ok: boolean;
  status: number;
  body: { id: string; smtp_reply: string; results: { status: number; body: { id: string } }[] };
}

async function rpc(binding: string, method: string, ...args: unknown[]): Promise<RpcResult> {
  const res = await env.CLIENT_APP!.fetch("https://client-app/", {
    method: "POST",
    body: JSON.stringify({ binding, method, args }),
  });
  if (res.status !== 200) throw new Error(`client-app: ${res.status} ${await res.text()}`);
  return res.json();
}

const msg = (from: string, to: string[], subject = "rpc") => ({
  from,
  to,
  subject,
  text: "via a service binding",
});

describe("RPC entrypoint (PosternService) over a service binding", () => {
  beforeAll(async () => {
    await sink.up();
    await admin("POST", "/accounts", { login: LOGIN, password: PASSWORD });
    await admin("PUT", `/maps/sender_login/${encodeURIComponent(LOGIN)}`, { value: LOGIN });
    await admin("PUT", `/maps/sender_login/${encodeURIComponent("noreply@rpc.example")}`, { value: LOGIN });
    await setParameters({
      relayhost: `[127.0.0.1]:${sink.ports.open}`,
      smtp_tls_security_level: "none",
      smtp_sasl_auth_enable: "no",
    });
  });
  afterAll(() => resetParameters(["relayhost", "smtp_tls_security_level", "smtp_sasl_auth_enable"]));

  it("sends as the binding's account and the message is delivered", async () => {
    const answer = await rpc("POSTERN", "send", msg("noreply@rpc.example", ["rpc1@example.net"]));
    expect(answer).toMatchObject({ ok: true, status: 202, body: { status: "queued" } });
    const [got] = await sink.waitForMessages("rpc1@example.net");
    expect(got!.mailFrom).toBe("noreply@rpc.example");
    // The same message through HTTP shows it as the account's, sent with sasl_method RPC.
    const view = await status(basic(LOGIN, PASSWORD), answer.body.id);
    expect(view.id).toBe(answer.body.id);
    const row = await env.DB.prepare("select sasl_method, sasl_username from messages where id = ?")
      .bind(answer.body.id)
      .first();
    expect(row).toEqual({ sasl_method: "RPC", sasl_username: LOGIN });
  });

  it("applies sender ownership as for HTTP: a sender the account does not own is refused", async () => {
    const answer = await rpc("POSTERN", "send", msg("ceo@other.example", ["rpc2@example.net"]));
    expect(answer).toMatchObject({
      ok: false,
      status: 403,
      body: { type: "https://postern.dev/problems/rejected", smtp_status: "5.7.1" },
    });
    expect(answer.body.smtp_reply).toContain(
      "Sender address rejected: not owned by user rpc-app@example.com",
    );
  });

  it("answers invalid input as a 422 problem value, not a thrown error", async () => {
    const answer = await rpc("POSTERN", "send", {
      from: "noreply@rpc.example",
      to: ["bad"],
      subject: "s",
      text: "x",
    });
    expect(answer).toMatchObject({ ok: false, status: 422, body: { smtp_status: "5.1.3" } });
    const nothing = await rpc("POSTERN", "send", "not a message");
    expect(nothing).toMatchObject({ ok: false, status: 422 });
  });

  it("refuses a binding whose account does not exist, and one that names no account", async () => {
    const unknown = await rpc("POSTERN_UNKNOWN", "send", msg("noreply@rpc.example", ["rpc3@example.net"]));
    expect(unknown).toMatchObject({ ok: false, status: 403, body: { smtp_status: "5.7.8" } });
    const unconfigured = await rpc(
      "POSTERN_UNCONFIGURED",
      "send",
      msg("noreply@rpc.example", ["rpc3@example.net"]),
    );
    expect(unconfigured).toMatchObject({
      ok: false,
      status: 500,
      body: { type: "https://postern.dev/problems/service-binding-not-configured" },
    });
  });

  it("honours an idempotency key: one message for repeated sends", async () => {
    const message = msg("noreply@rpc.example", ["rpc4@example.net"], "once");
    const first = await rpc("POSTERN", "send", message, { idempotencyKey: "rpc-once" });
    const second = await rpc("POSTERN", "send", message, { idempotencyKey: "rpc-once" });
    expect(first.status).toBe(202);
    expect(second).toEqual(first);
    const other = await rpc(
      "POSTERN",
      "send",
      { ...message, subject: "twice" },
      { idempotencyKey: "rpc-once" },
    );
    expect(other).toMatchObject({ ok: false, status: 422 });
  });

  it("sends a batch with an answer per message, and reports status for its own messages only", async () => {
    const answer = await rpc("POSTERN", "sendBatch", [
      msg("noreply@rpc.example", ["rpc5@example.net"]),
      msg("ceo@other.example", ["rpc6@example.net"]),
    ]);
    expect(answer.status).toBe(200);
    expect(answer.body.results.map((r) => r.status)).toEqual([202, 403]);
    const id = answer.body.results[0]!.body.id;
    const seen = await rpc("POSTERN", "status", id);
    expect(seen).toMatchObject({ ok: true, status: 200, body: { id, from: "noreply@rpc.example" } });
    const stranger = await rpc("POSTERN_UNKNOWN", "status", id);
    expect(stranger.ok).toBe(false);
    expect((await rpc("POSTERN", "sendBatch", [])).status).toBe(422);
  });
});
