// LOGIN (draft-murchison-sasl-login): the server prompts "Username:" then "Password:" and the
// client answers each in turn. A username sent as initial response skips the first prompt, as
// Cyrus and Dovecot allow. No authzid. Fields follow PLAIN's limits (UTF-8, no NUL, 1 to 255
// octets), so an account that works with one works with the other.
import { askBackend } from "./ask-backend.ts";
import { decodeUtf8 } from "./decode-utf8.ts";
import {
  type ClientCredentials,
  type ClientMechanism,
  type MechanismSpec,
  mechanismProperties,
  type SaslServerContext,
  type SaslStatus,
  type ServerMechanism,
  type Step,
} from "./mechanism.ts";
import { PLAIN_FIELD_LIMIT } from "./plain.ts";

const PROPERTIES = mechanismProperties({ plaintext: true });

const encoder = new TextEncoder();
const USERNAME_PROMPT = encoder.encode("Username:");
const PASSWORD_PROMPT = encoder.encode("Password:");

type Field = { ok: true; value: string } | { ok: false; reason: string };

function readField(name: string, bytes: Uint8Array): Field {
  if (bytes.length === 0) return { ok: false, reason: `empty ${name}` };
  if (bytes.length > PLAIN_FIELD_LIMIT) return { ok: false, reason: `${name} longer than 255 octets` };
  if (bytes.includes(0)) return { ok: false, reason: `NUL in ${name}` };
  const text = decodeUtf8(bytes);
  return text === null ? { ok: false, reason: `${name} is not UTF-8` } : { ok: true, value: text };
}

function askPassword(bytes: Uint8Array): Step {
  const username = readField("username", bytes);
  if (!username.ok) return { status: { kind: "malformed", reason: username.reason } };
  return {
    status: { kind: "more", challenge: PASSWORD_PROMPT },
    state: { stage: "password", username: username.value },
  };
}

async function verify(ctx: SaslServerContext, username: string, bytes: Uint8Array): Promise<SaslStatus> {
  const password = readField("password", bytes);
  if (!password.ok) return { kind: "malformed", reason: password.reason, login: username };
  const login = ctx.canonicalLogin(username);
  if (login === null) return { kind: "fail", reason: "unusable login name", login: username };
  const valid = await askBackend("password check", login, () =>
    ctx.credentials.verifyPassword(login, password.value),
  );
  if (!valid.ok) return valid.status;
  if (!valid.value) return { kind: "fail", reason: "authentication failure", login };
  return { kind: "done", identity: { authcid: login, authzid: login } };
}

const server: ServerMechanism = {
  async start(_ctx, initial) {
    // An empty initial response ("=") is read as none, as for PLAIN.
    if (initial === null || initial.length === 0) {
      return { status: { kind: "more", challenge: USERNAME_PROMPT }, state: { stage: "username" } };
    }
    return askPassword(initial);
  },
  async step(ctx, state, response) {
    if (state.stage === "username") return askPassword(response);
    if (state.stage === "password" && typeof state.username === "string") {
      return { status: await verify(ctx, state.username, response) };
    }
    return { status: { kind: "fail", reason: "invalid LOGIN state" } };
  },
};

function client(credentials: ClientCredentials): ClientMechanism {
  // Answers by position, not by prompt text: servers word the prompts differently ("User Name").
  const answers = [credentials.authcid, credentials.password ?? ""].map((field) => encoder.encode(field));
  let next = 0;
  return {
    async start() {
      return null;
    },
    async step() {
      if (credentials.authzid && credentials.authzid !== credentials.authcid) {
        return { kind: "fail", reason: "LOGIN cannot carry an authorization identity" };
      }
      const answer = answers[next++];
      if (answer === undefined) return { kind: "fail", reason: "unexpected LOGIN challenge" };
      return { kind: "respond", response: answer };
    },
    async finish() {
      return { kind: "done", verified: false };
    },
  };
}

export const LOGIN: MechanismSpec = { name: "LOGIN", properties: PROPERTIES, server, client };
