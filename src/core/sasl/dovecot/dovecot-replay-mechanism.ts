// A Dovecot mechanism as a stateless ServerMechanism, for the HTTP SASL endpoint. A Dovecot
// exchange lives on one connection, but HTTP steps may land on different isolates; so the state
// keeps the client's earlier responses, and each step opens a connection and replays them before
// sending the new one. That is only sound for mechanisms whose challenges do not change between
// runs (PLAIN has none; LOGIN asks "Username:" then "Password:"), so only those are replayable.
// Over SMTP, where one connection serves the whole session, every Dovecot mechanism works.
import { base64ToBytes, bytesToBase64 } from "../../encoding/base64.ts";
import type { MechanismState, SaslStatus, ServerMechanism, Step } from "../mechanism.ts";
import type { DovecotAuthClient, DovecotStartOptions } from "./dovecot-auth-client.ts";

export const REPLAYABLE_MECHANISMS = ["PLAIN", "LOGIN"] as const;

export interface DovecotReplayOptions {
  /** A new client for each step; the adapter closes it. */
  open: () => DovecotAuthClient;
  mechanism: string;
  params: Omit<DovecotStartOptions, "initial">;
}

const MAX_REPLAYED = 8;

export function dovecotReplayServer(options: DovecotReplayOptions): ServerMechanism {
  return {
    start: (_ctx, initial) => run(options, [initial === null ? null : bytesToBase64(initial)]),
    async step(_ctx, state: MechanismState, response) {
      const earlier = state.responses;
      if (!Array.isArray(earlier) || earlier.length === 0 || earlier.length > MAX_REPLAYED) {
        return { status: { kind: "malformed", reason: "invalid continuation state" } };
      }
      if (!earlier.every((r, i) => (i === 0 && r === null) || typeof r === "string")) {
        return { status: { kind: "malformed", reason: "invalid continuation state" } };
      }
      return run(options, [...(earlier as (string | null)[]), bytesToBase64(response)]);
    },
  };
}

/** Sends `responses` (the first as the initial response) and reports what follows the last one. */
async function run(options: DovecotReplayOptions, responses: (string | null)[]): Promise<Step> {
  const client = options.open();
  try {
    const [first, ...rest] = responses;
    const started = await client.start(options.mechanism, {
      ...options.params,
      initial: first === null || first === undefined ? null : base64ToBytes(first),
    });
    let status: SaslStatus = started.status;
    for (const response of rest) {
      // Every response answers a challenge: the replay must reproduce the ones already answered.
      if (status.kind !== "more") return { status: diverged(status) };
      status = await client.continue(started.id, base64ToBytes(response ?? ""));
    }
    return status.kind === "more" ? { status, state: { responses } } : { status };
  } finally {
    await client.close();
  }
}

function diverged(status: SaslStatus): SaslStatus {
  if (status.kind === "temp" || status.kind === "fail") return status;
  return { kind: "temp", reason: "Dovecot answered a replayed step differently" };
}
