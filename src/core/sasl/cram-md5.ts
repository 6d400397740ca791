// CRAM-MD5 (RFC 2195): the server sends a unique msg-id `<random.time@hostname>`, the client
// answers `user SP hex(HMAC-MD5(secret, challenge))`. The secret is plaintext-equivalent, so it
// exists only for accounts that opted in (ctx.credentials.sharedSecret). Open to dictionary
// attacks on a captured exchange; Postfix's `nodictionary` / `noactive` remove it.
import { hmac } from "@noble/hashes/hmac.js";
import { md5 } from "@noble/hashes/legacy.js";
import { bytesToHex, hexToBytes } from "@noble/hashes/utils.js";
import { timingSafeEqual } from "../auth/constant-time.ts";
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
} from "./mechanism.ts";

const PROPERTIES = mechanismProperties({ active: true, dictionary: true });

/** Bounds the user name, as PLAIN bounds its fields; RFC 2195 sets no limit of its own. */
const USER_LIMIT = 255;
const DIGEST = /^[0-9a-fA-F]{32}$/;
// Unknown logins and accounts without a shared secret are checked against this, for equal work.
const DUMMY_SECRET = "postern-cram-md5-no-such-secret";
const encoder = new TextEncoder();

/** hex(HMAC-MD5(secret, challenge)), the digest of RFC 2195 §2. */
export function cramMd5Digest(secret: string, challenge: Uint8Array): string {
  return bytesToHex(hmac(md5, encoder.encode(secret), challenge));
}

/** `<random.seconds@hostname>`: a fresh msg-id-shaped challenge (RFC 2195 §2). */
function newChallenge(ctx: SaslServerContext): string {
  const random = BigInt(`0x${bytesToHex(ctx.random(8))}`);
  return `<${random}.${Math.floor(ctx.now() / 1000)}@${ctx.hostname}>`;
}

async function verify(ctx: SaslServerContext, challenge: string, response: Uint8Array): Promise<SaslStatus> {
  const text = decodeUtf8(response);
  if (text === null) return { kind: "malformed", reason: "response is not UTF-8" };
  // The digest follows the last space: user names may contain spaces.
  const space = text.lastIndexOf(" ");
  if (space < 0) return { kind: "malformed", reason: "expected user SP digest" };
  const user = text.slice(0, space);
  const digest = text.slice(space + 1);
  if (user === "") return { kind: "malformed", reason: "empty user name" };
  if (encoder.encode(user).length > USER_LIMIT || user.includes("\0")) {
    return { kind: "malformed", reason: "unusable user name", login: user };
  }
  if (!DIGEST.test(digest)) return { kind: "malformed", reason: "digest is not 32 hex digits", login: user };
  const login = ctx.canonicalLogin(user);
  if (login === null) return { kind: "fail", reason: "unusable login name", login: user };
  const secret = await askBackend("shared secret lookup", login, () => ctx.credentials.sharedSecret(login));
  if (!secret.ok) return secret.status;
  // The HMAC is computed even without a secret, so the answer takes the same time either way.
  const expected = hexToBytes(cramMd5Digest(secret.value ?? DUMMY_SECRET, encoder.encode(challenge)));
  const match = timingSafeEqual(expected, hexToBytes(digest.toLowerCase()));
  if (secret.value === null || !match) return { kind: "fail", reason: "authentication failure", login };
  return { kind: "done", identity: { authcid: login, authzid: login } };
}

const server: ServerMechanism = {
  async start(ctx, initial) {
    // The server speaks first: an initial response is a protocol error (RFC 4954 §4: 501).
    if (initial !== null) {
      return { status: { kind: "malformed", reason: "CRAM-MD5 takes no initial response" } };
    }
    const challenge = newChallenge(ctx);
    return { status: { kind: "more", challenge: encoder.encode(challenge) }, state: { challenge } };
  },
  async step(ctx, state, response) {
    if (typeof state.challenge !== "string") {
      return { status: { kind: "fail", reason: "invalid CRAM-MD5 state" } };
    }
    return { status: await verify(ctx, state.challenge, response) };
  },
};

function client(credentials: ClientCredentials): ClientMechanism {
  let answered = false;
  return {
    async start() {
      return null;
    },
    async step(challenge) {
      if (answered) return { kind: "fail", reason: "unexpected CRAM-MD5 challenge" };
      if (credentials.authzid && credentials.authzid !== credentials.authcid) {
        return { kind: "fail", reason: "CRAM-MD5 cannot carry an authorization identity" };
      }
      if (credentials.password === undefined) return { kind: "fail", reason: "CRAM-MD5 needs a password" };
      answered = true;
      const response = `${credentials.authcid} ${cramMd5Digest(credentials.password, challenge)}`;
      return { kind: "respond", response: encoder.encode(response) };
    },
    async finish() {
      return { kind: "done", verified: false };
    },
  };
}

export const CRAM_MD5: MechanismSpec = { name: "CRAM-MD5", properties: PROPERTIES, server, client };
