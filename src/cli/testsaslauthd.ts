// testsaslauthd, Postern's way: a full SASL exchange with one of Postern's client mechanisms
// against a running gateway's SASL endpoint, answered as saslauthd's tool does:
// `0: OK "Success."` or `0: NO "authentication failed"`.
import { base64ToBytes, bytesToBase64 } from "../core/encoding/base64.ts";
import { findMechanism } from "../core/sasl/mechanisms.ts";

export interface SaslCheck {
  baseUrl: string;
  user: string;
  password: string;
  mechanism: string;
  service: string;
  /** The server name some mechanisms put on the wire (DIGEST-MD5's digest-uri, OAUTHBEARER's host). */
  hostname?: string;
  /** An access token for OAUTHBEARER / XOAUTH2 (then `password` is unused). */
  token?: string;
}

export interface SaslCheckResult {
  ok: boolean;
  line: string;
  /** The server proved itself (SCRAM's v=, DIGEST-MD5's rspauth). */
  serverVerified: boolean;
  detail?: string;
}

export async function testSaslAuth(check: SaslCheck): Promise<SaslCheckResult> {
  const spec = findMechanism(check.mechanism);
  if (!spec)
    return { ok: false, line: `0: NO "unknown mechanism ${check.mechanism}"`, serverVerified: false };
  const client = spec.client({
    authcid: check.user,
    password: check.password,
    token: check.token,
    service: check.service,
    host: check.hostname,
  });
  const post = async (body: unknown) => {
    const res = await fetch(`${check.baseUrl}/v1/auth/sasl`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
    });
    return { status: res.status, body: (await res.json()) as Record<string, string | null> };
  };
  const initial = await client.start();
  let reply = await post({
    mechanism: spec.name,
    service: check.service,
    response: initial === null ? null : bytesToBase64(initial) || "=",
  });
  for (let steps = 0; steps < 10; steps++) {
    const { status, body } = reply;
    if (status === 200 && body.status === "authenticated") {
      const finished = await client.finish(body.final ? base64ToBytes(body.final) : null);
      if (finished.kind === "fail") {
        return {
          ok: false,
          line: `0: NO "server failed to prove itself"`,
          serverVerified: false,
          detail: finished.reason,
        };
      }
      return {
        ok: true,
        line: `0: OK "Success."`,
        serverVerified: finished.kind === "done" && finished.verified,
      };
    }
    if (status !== 200) {
      const reason =
        status === 401 ? "authentication failed" : (body.detail ?? body.title ?? `HTTP ${status}`);
      return {
        ok: false,
        line: `0: NO "${reason}"`,
        serverVerified: false,
        detail: body.smtp_reply ?? undefined,
      };
    }
    const next = await client.step(base64ToBytes(body.challenge ?? ""));
    const response = next.kind === "respond" ? bytesToBase64(next.response) || "=" : "=";
    reply = await post({ continuation: body.continuation, response });
  }
  return { ok: false, line: `0: NO "exchange did not end"`, serverVerified: false };
}
