// ANONYMOUS (RFC 4505): one client message with optional trace information (an email address or
// an opaque token, at most 255 characters of UTF-8). The trace has no meaning and is only
// validated, never logged or trusted. Off by default through policy (Postfix's `noanonymous`),
// not here: Postfix treats an anonymous login as no authentication.
import { decodeUtf8 } from "./decode-utf8.ts";
import {
  type ClientCredentials,
  type ClientMechanism,
  type MechanismSpec,
  mechanismProperties,
  type Step,
} from "./mechanism.ts";

const PROPERTIES = mechanismProperties({ anonymous: true });

/** RFC 4505 §3: at most 255 characters; the 4-octet UTF-8 worst case bounds the octets. */
const TRACE_CHARACTERS = 255;
// Controls, private use and unpaired surrogates are prohibited by the "trace" profile (§3).
const PROHIBITED = /[\p{Cc}\p{Co}\p{Cs}]/u;
export const ANONYMOUS_IDENTITY = "anonymous";
const encoder = new TextEncoder();

function accept(message: Uint8Array): Step {
  if (message.length > TRACE_CHARACTERS * 4) {
    return { status: { kind: "malformed", reason: "trace too long" } };
  }
  const trace = decodeUtf8(message);
  if (trace === null) return { status: { kind: "malformed", reason: "trace is not UTF-8" } };
  if ([...trace].length > TRACE_CHARACTERS) {
    return { status: { kind: "malformed", reason: "trace too long" } };
  }
  if (PROHIBITED.test(trace)) {
    return { status: { kind: "malformed", reason: "prohibited character in trace" } };
  }
  return { status: { kind: "done", identity: { authcid: ANONYMOUS_IDENTITY, authzid: ANONYMOUS_IDENTITY } } };
}

function client(credentials: ClientCredentials): ClientMechanism {
  // The trace is the configured login (often an email address), or nothing.
  const trace = encoder.encode(credentials.authcid);
  let answered = false;
  return {
    async start() {
      return trace;
    },
    async step(challenge) {
      // Answers once, when the initial response was not sent.
      if (challenge.length > 0 || answered) return { kind: "fail", reason: "unexpected ANONYMOUS challenge" };
      answered = true;
      return { kind: "respond", response: trace };
    },
    async finish() {
      return { kind: "done", verified: false };
    },
  };
}

export const ANONYMOUS: MechanismSpec = {
  name: "ANONYMOUS",
  properties: PROPERTIES,
  server: {
    async start(_ctx, initial) {
      // Without an initial response, an empty challenge asks for the (possibly empty) trace.
      if (initial === null) return { status: { kind: "more", challenge: new Uint8Array() }, state: {} };
      return accept(initial);
    },
    async step(_ctx, _state, response) {
      return accept(response);
    },
  },
  client,
};
