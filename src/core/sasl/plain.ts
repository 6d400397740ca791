// PLAIN (RFC 4616): one client message `[authzid] NUL authcid NUL passwd`, UTF-8, each field at
// most 255 octets. The password goes to ctx.credentials.verifyPassword, which does equal work for
// unknown logins; an authzid is honoured only after the password checked out.
import { askBackend } from "./ask-backend.ts";
import { authorizeIdentity } from "./authorize-identity.ts";
import { decodeUtf8 } from "./decode-utf8.ts";
import {
  type ClientCredentials,
  type ClientMechanism,
  type MechanismSpec,
  mechanismProperties,
  type SaslServerContext,
  type SaslStatus,
  type ServerMechanism,
} from "./mechanism.ts";

/** RFC 4616 §2: each of authzid, authcid and passwd is 1 to 255 octets (authzid may be absent). */
export const PLAIN_FIELD_LIMIT = 255;

const PROPERTIES = mechanismProperties({ plaintext: true });

const NUL = 0;
const EMPTY = new Uint8Array();
const encoder = new TextEncoder();

export interface PlainMessage {
  /** Empty when the client sent none. */
  authzid: string;
  authcid: string;
  password: string;
}

export type PlainParse = { ok: true; value: PlainMessage } | { ok: false; reason: string; login?: string };

/** Parses a PLAIN message strictly; `login` is the authcid whenever it could be read, for the log. */
export function parsePlainMessage(message: Uint8Array): PlainParse {
  const first = message.indexOf(NUL);
  const second = first < 0 ? -1 : message.indexOf(NUL, first + 1);
  if (second < 0 || message.indexOf(NUL, second + 1) >= 0) {
    return { ok: false, reason: "expected authzid NUL authcid NUL password" };
  }
  const authcid = decodeUtf8(message.subarray(first + 1, second));
  if (authcid === null) return { ok: false, reason: "authcid is not UTF-8" };
  if (authcid === "") return { ok: false, reason: "empty authcid" };
  const bad = (reason: string): PlainParse => ({ ok: false, reason, login: authcid });
  if (second - first - 1 > PLAIN_FIELD_LIMIT) return bad("authcid longer than 255 octets");
  if (first > PLAIN_FIELD_LIMIT) return bad("authzid longer than 255 octets");
  const authzid = decodeUtf8(message.subarray(0, first));
  if (authzid === null) return bad("authzid is not UTF-8");
  const passwordBytes = message.subarray(second + 1);
  if (passwordBytes.length === 0) return bad("empty password");
  if (passwordBytes.length > PLAIN_FIELD_LIMIT) return bad("password longer than 255 octets");
  const password = decodeUtf8(passwordBytes);
  if (password === null) return bad("password is not UTF-8");
  return { ok: true, value: { authzid, authcid, password } };
}

async function verify(ctx: SaslServerContext, message: Uint8Array): Promise<SaslStatus> {
  const parsed = parsePlainMessage(message);
  if (!parsed.ok) {
    return {
      kind: "malformed",
      reason: parsed.reason,
      ...(parsed.login === undefined ? {} : { login: parsed.login }),
    };
  }
  const { authzid, authcid, password } = parsed.value;
  const login = ctx.canonicalLogin(authcid);
  if (login === null) return { kind: "fail", reason: "unusable login name", login: authcid };
  const valid = await askBackend("password check", login, () =>
    ctx.credentials.verifyPassword(login, password),
  );
  if (!valid.ok) return valid.status;
  // Unknown login and wrong password are one answer: verifyPassword cannot tell them apart either.
  if (!valid.value) return { kind: "fail", reason: "authentication failure", login };
  return authorizeIdentity(ctx, login, authzid);
}

const server: ServerMechanism = {
  async start(ctx, initial) {
    // No initial response asks for the message with an empty challenge (RFC 4954 §4). An empty one
    // ("=") is read the same way, as Dovecot does for clients such as Exim that send it for "none".
    if (initial === null || initial.length === 0) {
      return { status: { kind: "more", challenge: EMPTY }, state: {} };
    }
    return { status: await verify(ctx, initial) };
  },
  async step(ctx, _state, response) {
    return { status: await verify(ctx, response) };
  },
};

/** The client message, or the reason the credentials cannot be sent as PLAIN. */
export function plainMessage(
  credentials: ClientCredentials,
): { ok: true; value: Uint8Array } | { ok: false; reason: string } {
  const authzid =
    credentials.authzid && credentials.authzid !== credentials.authcid ? credentials.authzid : "";
  const fields = [authzid, credentials.authcid, credentials.password ?? ""].map((field) =>
    encoder.encode(field),
  );
  const [z, c, p] = fields as [Uint8Array, Uint8Array, Uint8Array];
  if (c.length === 0 || p.length === 0) return { ok: false, reason: "PLAIN needs a login and a password" };
  if (fields.some((field) => field.includes(NUL))) {
    return { ok: false, reason: "PLAIN fields cannot contain NUL" };
  }
  if (fields.some((field) => field.length > PLAIN_FIELD_LIMIT)) {
    return { ok: false, reason: "PLAIN field longer than 255 octets" };
  }
  const message = new Uint8Array(z.length + c.length + p.length + 2);
  message.set(z, 0);
  message.set(c, z.length + 1);
  message.set(p, z.length + c.length + 2);
  return { ok: true, value: message };
}

function client(credentials: ClientCredentials): ClientMechanism {
  const message = plainMessage(credentials);
  let answered = false;
  return {
    // Unusable credentials send no initial response, so the failure is reported at the first step.
    async start() {
      return message.ok ? message.value : null;
    },
    async step(challenge) {
      if (!message.ok) return { kind: "fail", reason: message.reason };
      // The server asks with an empty challenge when no initial response was sent; answer it once.
      if (challenge.length > 0 || answered) return { kind: "fail", reason: "unexpected PLAIN challenge" };
      answered = true;
      return { kind: "respond", response: message.value };
    },
    async finish() {
      return { kind: "done", verified: false };
    },
  };
}

export const PLAIN: MechanismSpec = { name: "PLAIN", properties: PROPERTIES, server, client };
