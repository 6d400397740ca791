// SCRAM-SHA-1 (RFC 5802), SCRAM-SHA-256 (RFC 7677) and SCRAM-SHA-256-PLUS with tls-exporter
// channel binding (RFC 5056, RFC 9266), server and client.
//
//   C: gs2-header client-first-bare       n,,n=user,r=<cnonce>
//   S: server-first                       r=<cnonce><snonce>,s=<salt>,i=<iterations>
//   C: client-final                       c=<base64(gs2-header [+ cb data])>,r=<nonce>,p=<proof>
//   S: server-final (with success)        v=<ServerSignature>
//
// The server never holds a secret key in its state: StoredKey and ServerKey are fetched again for
// the final step. Failures carry RFC 5802's server-error-value in the log reason; no e= message is
// sent (Postfix answers 535, the HTTP layer 401).

import { timingSafeEqual } from "../auth/constant-time.ts";
import { normalizePassword } from "../auth/normalize-password.ts";
import { SCRAM_HASHES, type ScramHash, scramDigest, scramHmac } from "../auth/scram-hash.ts";
import {
  deriveScramKeys,
  SCRAM_DEFAULT_ITERATIONS,
  SCRAM_MAX_ITERATIONS,
  SCRAM_MIN_ITERATIONS,
  SCRAM_SALT_BYTES,
} from "../auth/scram-record.ts";
import { printable } from "../printable.ts";
import { askBackend } from "./ask-backend.ts";
import { authorizeIdentity } from "./authorize-identity.ts";
import { type ChannelBindingFlag, formatGs2Header, parseGs2Header } from "./gs2-header.ts";
import {
  type ClientCredentials,
  type ClientMechanism,
  type ClientStep,
  type MechanismSpec,
  type MechanismState,
  mechanismProperties,
  type SaslServerContext,
  type ScramServerKeys,
  type ServerMechanism,
  type Step,
} from "./mechanism.ts";
import {
  decodeMessage,
  encodeBase64,
  encodeMessage,
  formatClientFinalWithoutProof,
  formatClientFirstBare,
  formatServerFirst,
  makeNonce,
  parseClientFinal,
  parseClientFirstBare,
  parseServerFinal,
  parseServerFirst,
} from "./scram-messages.ts";

/** RFC 5802 §7 server-error-value: the first word of every failure reason. */
export type ScramServerError =
  | "invalid-encoding"
  | "extensions-not-supported"
  | "invalid-proof"
  | "channel-bindings-dont-match"
  | "server-does-support-channel-binding"
  | "channel-binding-not-supported"
  | "unsupported-channel-binding-type"
  | "invalid-username-encoding"
  | "other-error";

export interface ScramVariant {
  /** The IANA mechanism name. */
  name: string;
  hash: ScramHash;
  /** The -PLUS variant: channel binding required. */
  plus: boolean;
  /** Characters of the nonce this side contributes (default 24); tests set the RFC examples' lengths. */
  nonceLength?: number;
}

/** Cyrus SASL's flags for SCRAM: no plaintext, resists active attacks, proves the server. */
// An eavesdropper (no TLS) can run a dictionary attack on salt, nonces and proof.
const PROPERTIES = mechanismProperties({ dictionary: true, mutualAuth: true });

const DEFAULT_NONCE_LENGTH = 24;
const CHANNEL_BINDING_TYPE = "tls-exporter";
const EMPTY = new Uint8Array(0);

/**
 * Unknown logins get a salt derived from the login (so it is the same on every attempt and for
 * SHA-1 and SHA-256, like a real one) and the default iteration count; the exchange then fails
 * only at the proof, as a wrong password does. The key is the deployment's stand-in secret, so the
 * salt cannot be recomputed from this code; without one (tests), a published constant.
 */
const STAND_IN_SALT_KEY = encodeMessage("postern/scram/unknown-login-salt/v1");

async function standInSalt(login: string, ctx: SaslServerContext): Promise<Uint8Array> {
  const key = ctx.standInSecret ? await ctx.standInSecret() : STAND_IN_SALT_KEY;
  return (await scramHmac("SHA-256", key, encodeMessage(login))).slice(0, SCRAM_SALT_BYTES);
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

/** XOR over `b`'s length; a shorter `a` is padded with zeros (its length is checked separately). */
function xor(a: Uint8Array, b: Uint8Array): Uint8Array {
  return b.map((byte, i) => byte ^ (a[i] ?? 0));
}

// --- server ---

/** What the final step needs; all of it was sent in the clear, so no secret is in it. */
type FinalState = {
  stage: "client-final";
  mechanism: string;
  login: string;
  /** The a= authzid as sent (unescaped), or null; authorized only after the proof. */
  authzid: string | null;
  gs2Header: string;
  /** The channel binding flag the client sent: with "p", c= must carry this connection's data. */
  cb: ChannelBindingFlag["kind"];
  clientFirstBare: string;
  serverFirst: string;
  nonce: string;
};

function readFinalState(state: MechanismState, mechanism: string): FinalState | null {
  const s = state as Partial<Record<keyof FinalState, unknown>>;
  const strings = [s.login, s.gs2Header, s.clientFirstBare, s.serverFirst, s.nonce];
  if (s.stage !== "client-final" || s.mechanism !== mechanism) return null;
  if (!strings.every((v) => typeof v === "string")) return null;
  if (s.authzid !== null && typeof s.authzid !== "string") return null;
  if (s.cb !== "n" && s.cb !== "y" && s.cb !== "p") return null;
  return state as unknown as FinalState;
}

const fail = (error: ScramServerError, detail?: string, login?: string): Step => ({
  status: { kind: "fail", reason: detail ? `${error}: ${detail}` : error, ...(login ? { login } : {}) },
});
const malformed = (reason: string, login?: string): Step => ({
  status: { kind: "malformed", reason, ...(login ? { login } : {}) },
});

/** RFC 5802 §6 and RFC 5056: the flag must fit the mechanism and what this connection offers. */
function channelBindingProblem(
  variant: ScramVariant,
  flag: ChannelBindingFlag,
  ctx: SaslServerContext,
): [ScramServerError, string?] | null {
  if (variant.plus) {
    if (flag.kind !== "p") return ["other-error", `${variant.name} without channel binding`];
    if (flag.type !== CHANNEL_BINDING_TYPE)
      return ["unsupported-channel-binding-type", printable(flag.type, 64)];
    if (!ctx.channelBinding) return ["channel-binding-not-supported", "no tls-exporter on this connection"];
    return null;
  }
  if (flag.kind === "p") return ["channel-binding-not-supported", `p= sent to ${variant.name}`];
  // "y": the client could bind but believes we cannot. We offer -PLUS here, so someone removed it
  // from the list the client saw: a downgrade (RFC 5802 §6).
  if (flag.kind === "y" && ctx.channelBinding) return ["server-does-support-channel-binding"];
  return null;
}

async function clientFirst(variant: ScramVariant, ctx: SaslServerContext, response: Uint8Array) {
  const text = decodeMessage(response);
  if (!text.ok) return malformed(`client-first: ${text.reason}`);
  const gs2 = parseGs2Header(text.value);
  if (!gs2.ok) return malformed(`client-first: ${gs2.reason}`);
  const bare = parseClientFirstBare(gs2.value.bare);
  if (!bare.ok) return malformed(`client-first: ${bare.reason}`);
  const { header } = gs2.value;
  const login = ctx.canonicalLogin(bare.value.username);
  if (login === null) return fail("invalid-username-encoding");
  const cbProblem = channelBindingProblem(variant, header.flag, ctx);
  if (cbProblem) return fail(cbProblem[0], cbProblem[1], login);
  if (bare.value.mandatoryExtension) return fail("extensions-not-supported", "m= in client-first", login);
  const found = await askBackend("credential lookup", login, () =>
    ctx.credentials.scram(login, variant.hash),
  );
  if (!found.ok) return { status: found.status };
  const keys = found.value;
  const salt = keys?.salt ?? (await standInSalt(login, ctx));
  const iterations = keys?.iterations ?? SCRAM_DEFAULT_ITERATIONS;
  const nonce = bare.value.nonce + makeNonce(ctx.random, variant.nonceLength ?? DEFAULT_NONCE_LENGTH);
  const serverFirst = formatServerFirst(nonce, salt, iterations);
  const state: FinalState = {
    stage: "client-final",
    mechanism: variant.name,
    login,
    authzid: header.authzid,
    gs2Header: header.text,
    cb: header.flag.kind,
    clientFirstBare: gs2.value.bare,
    serverFirst,
    nonce,
  };
  return { status: { kind: "more", challenge: encodeMessage(serverFirst) }, state } satisfies Step;
}

async function clientFinal(
  variant: ScramVariant,
  ctx: SaslServerContext,
  state: FinalState,
  response: Uint8Array,
): Promise<Step> {
  const { login } = state;
  const { hash } = variant;
  const text = decodeMessage(response);
  if (!text.ok) return malformed(`client-final: ${text.reason}`, login);
  const message = parseClientFinal(text.value);
  if (!message.ok) return malformed(`client-final: ${message.reason}`, login);
  const { channelBinding, nonce, proof, withoutProof } = message.value;

  // c= echoes the GS2 header (a tampered flag or authzid shows here) and, with p, the channel
  // binding data of *this* connection: a relayed exchange carries another connection's data.
  let cbData: Uint8Array = EMPTY;
  if (state.cb === "p") {
    if (!ctx.channelBinding) return fail("channel-bindings-dont-match", "no channel binding now", login);
    cbData = ctx.channelBinding.data;
  }
  if (!timingSafeEqual(channelBinding, concat(encodeMessage(state.gs2Header), cbData))) {
    return fail("channel-bindings-dont-match", undefined, login);
  }
  // A client-final replayed from an earlier exchange carries that exchange's nonce.
  if (nonce !== state.nonce) return fail("other-error", "nonce does not match server-first", login);

  const found = await askBackend("credential lookup", login, () => ctx.credentials.scram(login, hash));
  if (!found.ok) return { status: found.status };
  const keys: ScramServerKeys | null = found.value;
  const size = SCRAM_HASHES[hash].bytes;
  const usable = keys !== null && keys.storedKey.length === size && keys.serverKey.length === size;
  // Unknown logins run the same computation against a zero StoredKey, which no H() output equals.
  const storedKey = usable ? keys!.storedKey : new Uint8Array(size);
  const serverKey = usable ? keys!.serverKey : new Uint8Array(size);
  const authMessage = encodeMessage(`${state.clientFirstBare},${state.serverFirst},${withoutProof}`);
  const clientSignature = await scramHmac(hash, storedKey, authMessage);
  const clientKey = xor(proof, clientSignature);
  const matches = timingSafeEqual(await scramDigest(hash, clientKey), storedKey);
  if (!(usable && matches && proof.length === size)) return fail("invalid-proof", undefined, login);

  // Authorization is asked only after authentication, so it reveals nothing to a stranger.
  const authorized = await authorizeIdentity(ctx, login, state.authzid ?? "");
  if (authorized.kind !== "done") return { status: authorized };
  const serverSignature = await scramHmac(hash, serverKey, authMessage);
  return { status: { ...authorized, final: encodeMessage(`v=${encodeBase64(serverSignature)}`) } };
}

function scramServer(variant: ScramVariant): ServerMechanism {
  return {
    async start(ctx, initial) {
      // No initial response: an empty challenge asks for the client-first message.
      if (initial === null) {
        return {
          status: { kind: "more", challenge: EMPTY },
          state: { stage: "client-first", mechanism: variant.name },
        };
      }
      return clientFirst(variant, ctx, initial);
    },
    async step(ctx, state, response) {
      if (state.stage === "client-first" && state.mechanism === variant.name) {
        return clientFirst(variant, ctx, response);
      }
      const final = readFinalState(state, variant.name);
      if (!final) return fail("other-error", `state is not a ${variant.name} state`);
      return clientFinal(variant, ctx, final, response);
    },
  };
}

// --- client ---

type ClientStage = "start" | "server-first" | "server-final" | "verified" | "ended";

function scramClient(
  variant: ScramVariant,
  credentials: ClientCredentials,
  random: (bytes: number) => Uint8Array,
): ClientMechanism {
  let stage: ClientStage = "start";
  let problem = "start() was not called";
  let resent = false;
  let gs2Header = "";
  let clientFirstBare = "";
  let clientNonce = "";
  let cbData: Uint8Array = EMPTY;
  let password = "";
  let expectedServerSignature: Uint8Array = EMPTY;

  const failed = (reason: string): ClientStep => {
    stage = "ended";
    return { kind: "fail", reason };
  };
  const respond = (text: string): ClientStep => ({ kind: "respond", response: encodeMessage(text) });

  function prepare(): string | null {
    if (!credentials.authcid) return "no username";
    const normalized = normalizePassword(credentials.password ?? "");
    if (!normalized.ok) return `unusable password: ${normalized.reason}`;
    password = normalized.value;
    const binding = credentials.channelBinding;
    let flag: ChannelBindingFlag;
    if (variant.plus) {
      if (binding?.type !== CHANNEL_BINDING_TYPE || binding.data.length === 0) {
        return `${variant.name} needs tls-exporter channel binding data`;
      }
      flag = { kind: "p", type: CHANNEL_BINDING_TYPE };
      cbData = binding.data;
    } else {
      // "y": we could bind, but the server did not offer -PLUS (RFC 5802 §6).
      flag = { kind: binding ? "y" : "n" };
    }
    const proxy =
      credentials.authzid && credentials.authzid !== credentials.authcid ? credentials.authzid : null;
    gs2Header = formatGs2Header(flag, proxy);
    clientNonce = makeNonce(random, variant.nonceLength ?? DEFAULT_NONCE_LENGTH);
    clientFirstBare = formatClientFirstBare(credentials.authcid, clientNonce);
    return null;
  }

  async function answerServerFirst(challenge: Uint8Array): Promise<ClientStep> {
    // An empty challenge asks for the initial response when the glue did not send it with AUTH.
    if (challenge.length === 0 && !resent) {
      resent = true;
      return respond(gs2Header + clientFirstBare);
    }
    const text = decodeMessage(challenge);
    if (!text.ok) return failed(`server-first: ${text.reason}`);
    const message = parseServerFirst(text.value);
    if (!message.ok) return failed(`server-first: ${message.reason}`);
    const { nonce, salt, iterations, mandatoryExtension } = message.value;
    if (mandatoryExtension) return failed("server-first: unsupported m= extension");
    if (!nonce.startsWith(clientNonce) || nonce.length === clientNonce.length) {
      return failed("server-first: nonce does not extend the client nonce");
    }
    // A low count makes an eavesdropped exchange cheap to crack (RFC 7677 §4); a huge one is a
    // denial of service, and workerd cannot compute more than 100,000.
    if (iterations < SCRAM_MIN_ITERATIONS || iterations > SCRAM_MAX_ITERATIONS) {
      return failed(
        `server-first: iteration count ${iterations} outside ${SCRAM_MIN_ITERATIONS}..${SCRAM_MAX_ITERATIONS}`,
      );
    }
    const keys = await deriveScramKeys(password, salt, iterations, variant.hash);
    const withoutProof = formatClientFinalWithoutProof(concat(encodeMessage(gs2Header), cbData), nonce);
    const authMessage = encodeMessage(`${clientFirstBare},${text.value},${withoutProof}`);
    const clientSignature = await scramHmac(variant.hash, keys.storedKey, authMessage);
    expectedServerSignature = await scramHmac(variant.hash, keys.serverKey, authMessage);
    stage = "server-final";
    return respond(`${withoutProof},p=${encodeBase64(xor(keys.clientKey, clientSignature))}`);
  }

  function checkServerFinal(final: Uint8Array): string | null {
    const text = decodeMessage(final);
    if (!text.ok) return `server-final: ${text.reason}`;
    const message = parseServerFinal(text.value);
    if (!message.ok) return `server-final: ${message.reason}`;
    if (message.value.kind === "error") return `server error: ${printable(message.value.error, 64)}`;
    if (!timingSafeEqual(message.value.signature, expectedServerSignature)) {
      return "server signature does not match: the server does not know the credential";
    }
    return null;
  }

  return {
    async start() {
      const reason = prepare();
      if (reason !== null) {
        // Without an initial response the server asks with an empty challenge; step() fails then.
        problem = reason;
        stage = "ended";
        return null;
      }
      stage = "server-first";
      return encodeMessage(gs2Header + clientFirstBare);
    },

    async step(challenge) {
      switch (stage) {
        case "server-first":
          return answerServerFirst(challenge);
        case "server-final": {
          // Some servers send v= as a challenge and expect an empty response before success.
          const reason = checkServerFinal(challenge);
          if (reason !== null) return failed(reason);
          stage = "verified";
          return { kind: "respond", response: EMPTY };
        }
        case "start":
        case "ended":
          return failed(problem);
        case "verified":
          return failed("challenge after the server signature");
      }
    },

    async finish(final) {
      if (stage === "verified") {
        const reason = final === null ? null : checkServerFinal(final);
        return reason === null ? { kind: "done", verified: true } : failed(reason);
      }
      if (stage !== "server-final") return failed("server reported success before the SCRAM exchange ended");
      // Success without v=: the server did not prove itself; the caller decides what that means.
      if (final === null) return { kind: "done", verified: false };
      const reason = checkServerFinal(final);
      if (reason !== null) return failed(reason);
      stage = "verified";
      return { kind: "done", verified: true };
    },
  };
}

const defaultRandom = (bytes: number): Uint8Array => crypto.getRandomValues(new Uint8Array(bytes));

/** A SCRAM mechanism table row for one hash, with or without channel binding. */
export function scramMechanism(variant: ScramVariant): MechanismSpec {
  return {
    name: variant.name,
    properties: { ...PROPERTIES, channelBinding: variant.plus },
    server: scramServer(variant),
    client: (credentials, random = defaultRandom) => scramClient(variant, credentials, random),
  };
}

export const SCRAM_SHA_1 = scramMechanism({ name: "SCRAM-SHA-1", hash: "SHA-1", plus: false });
export const SCRAM_SHA_256 = scramMechanism({ name: "SCRAM-SHA-256", hash: "SHA-256", plus: false });
export const SCRAM_SHA_256_PLUS = scramMechanism({ name: "SCRAM-SHA-256-PLUS", hash: "SHA-256", plus: true });
