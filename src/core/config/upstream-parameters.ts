// The Node SMTP adapter's upstream mode (main.cf parameters, part of PARAMETERS): with a gateway
// URL set, the adapter keeps no state and hands authentication, policy and messages to it.
import type { Parameter } from "./parameters.ts";

export const UPSTREAM_PARAMETERS = {
  postern_upstream_url: {
    default: "",
    meaning:
      "Node SMTP adapter only: the deployed gateway (https://...; http:// only to a loopback address) that authenticates, authorizes and stores every message. Set: upstream mode (no database, no queue, no local accounts). Empty: the embedded runtime.",
  },
  postern_upstream_tls_CAfile: {
    default: "",
    meaning:
      "Upstream mode: PEM file of CA certificates trusted for the gateway's HTTPS in addition to the system ones (a self-hosted gateway with a private CA).",
  },
  postern_upstream_timeout: {
    default: "30s",
    meaning:
      "Upstream mode: time limit of each request to the gateway; beyond it the SMTP client gets a 4xx (nothing is accepted).",
  },
} as const satisfies Record<string, Parameter>;
