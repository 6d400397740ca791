// DIGEST-MD5 (RFC 2831), authentication only. Historic since RFC 6331 (weak, interoperability
// problems); kept for legacy devices, and removed by `nodictionary` / `noactive`. No integrity or
// privacy layer: only qop=auth is offered and accepted. Exchange:
//
//   S: realm="<hostname>",nonce="..",qop="auth",algorithm=md5-sess,charset=utf-8
//   C: charset=utf-8,username="..",realm="..",nonce="..",nc=00000001,cnonce="..",
//      digest-uri="<service>/<hostname>",response=<32 hex>,qop=auth[,authzid=".."]
//   S: rspauth=<32 hex>          (the server proves it knows the secret too)
//   C: (empty)                   -> done
//
// The secret is plaintext-equivalent (ctx.credentials.sharedSecret, opt-in per account). A nonce
// is good for one response (nc=00000001); subsequent authentication is not supported.
import { md5 } from "@noble/hashes/legacy.js";
import { bytesToHex, hexToBytes } from "@noble/hashes/utils.js";
import { timingSafeEqual } from "../auth/constant-time.ts";
import { askBackend } from "./ask-backend.ts";
import { authorizeIdentity } from "./authorize-identity.ts";
import { decodeUtf8 } from "./decode-utf8.ts";
import { parseDigestDirectives, quoteDigestValue } from "./digest-directives.ts";
import {
  type ClientCredentials,
  type ClientMechanism,
  type ClientStep,
  type MechanismSpec,
  mechanismProperties,
  type SaslServerContext,
  type SaslStatus,
  type ServerMechanism,
  type Step,
} from "./mechanism.ts";

const PROPERTIES = mechanismProperties({ active: true, dictionary: true, mutualAuth: true });

/** RFC 2831 §2.1.2: a digest-response is less than 4096 octets; §2.1.1: a challenge, 2048. */
const RESPONSE_LIMIT = 4095;
const CHALLENGE_LIMIT = 2047;
/** Octets of randomness per nonce / cnonce; each becomes one base64 character (6 bits). */
const NONCE_OCTETS = 24;
const NONCE_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const REQUIRED = ["username", "nonce", "cnonce", "nc", "digest-uri", "response"] as const;
const HEX32 = /^[0-9a-fA-F]{32}$/;
const NC = /^[0-9a-fA-F]{8}$/;
const PRINTABLE_ASCII = /^[\x21-\x7e]+$/;
// Unknown logins and accounts without a shared secret are checked against this, for equal work.
const DUMMY_SECRET = "postern-digest-md5-no-such-secret";
const EMPTY = new Uint8Array();
const encoder = new TextEncoder();

export interface DigestMd5Input {
  username: string;
  /** Empty when the client sent no realm. */
  realm: string;
  password: string;
  nonce: string;
  cnonce: string;
  /** 8 hex digits, as sent. */
  nc: string;
  qop: string;
  digestUri: string;
  /** Null when the client sent no authzid directive (an empty one still enters A1). */
  authzid: string | null;
}

/** The client's `response` and the server's `rspauth` for qop=auth (RFC 2831 §2.1.2.1, §2.1.3). */
export function digestMd5Response(input: DigestMd5Input): { response: string; rspauth: string } {
  const colon = encoder.encode(":");
  const secret = md5(
    concat(hashOctets(input.username), colon, hashOctets(input.realm), colon, hashOctets(input.password)),
  );
  const authzid = input.authzid === null ? "" : `:${input.authzid}`;
  const ha1 = bytesToHex(md5(concat(secret, encoder.encode(`:${input.nonce}:${input.cnonce}${authzid}`))));
  const kd = (a2: string) => {
    const ha2 = bytesToHex(md5(encoder.encode(a2)));
    return bytesToHex(
      md5(encoder.encode(`${ha1}:${input.nonce}:${input.nc}:${input.cnonce}:${input.qop}:${ha2}`)),
    );
  };
  return { response: kd(`AUTHENTICATE:${input.digestUri}`), rspauth: kd(`:${input.digestUri}`) };
}

/**
 * Octets hashed for username, realm and password: ISO 8859-1 when every character fits, else
 * UTF-8 (RFC 2831 §2.1.2.1; Cyrus converts all three, so does this).
 */
function hashOctets(text: string): Uint8Array {
  const latin1 = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code > 0xff) return encoder.encode(text);
    latin1[i] = code;
  }
  return latin1;
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

/** One char per octet, so the parser sees the octets the peer sent. */
function binaryString(bytes: Uint8Array): string {
  let text = "";
  for (const byte of bytes) text += String.fromCharCode(byte);
  return text;
}

/** A binary string back to octets. */
function octets(binary: string): Uint8Array {
  return Uint8Array.from(binary, (char) => char.charCodeAt(0));
}

function nonceFrom(random: Uint8Array): string {
  return Array.from(random, (byte) => NONCE_ALPHABET.charAt(byte & 63)).join("");
}

type Directives = { ok: true; value: Map<string, string> } | { ok: false; reason: string };

/** Parses a list in which no directive may repeat except those in `repeatable` (first kept). */
function directiveMap(bytes: Uint8Array, repeatable: ReadonlySet<string> = new Set()): Directives {
  const parsed = parseDigestDirectives(binaryString(bytes));
  if (!parsed.ok) return parsed;
  const map = new Map<string, string>();
  for (const [name, value] of parsed.value) {
    if (map.has(name)) {
      if (repeatable.has(name)) continue;
      return { ok: false, reason: `duplicate ${name} directive` };
    }
    map.set(name, value);
  }
  return { ok: true, value: map };
}

// ---- server ----

function challengeFor(ctx: SaslServerContext, nonce: string): Uint8Array {
  // The order of RFC 2831 §4's example.
  const realm = quoteDigestValue(ctx.hostname);
  return encoder.encode(`realm=${realm},nonce="${nonce}",qop="auth",algorithm=md5-sess,charset=utf-8`);
}

function sameHost(a: string, b: string): boolean {
  return a.toLowerCase() === b.toLowerCase();
}

async function verifyResponse(ctx: SaslServerContext, nonce: string, response: Uint8Array): Promise<Step> {
  const malformed = (reason: string, login?: string): Step => ({
    status: { kind: "malformed", reason, ...(login === undefined ? {} : { login }) },
  });
  if (response.length > RESPONSE_LIMIT) return malformed("response longer than 4095 octets");
  const parsed = directiveMap(response);
  if (!parsed.ok) return malformed(parsed.reason);
  const d = parsed.value;
  for (const name of REQUIRED) if (!d.has(name)) return malformed(`missing ${name} directive`);
  const charset = d.get("charset");
  if (charset !== undefined && charset.toLowerCase() !== "utf-8") return malformed("charset is not utf-8");
  // Without charset=utf-8, username and realm are ISO 8859-1: the binary string is their text.
  const text = (raw: string) => (charset === undefined ? raw : decodeUtf8(octets(raw)));
  const utf8 = (raw: string) => decodeUtf8(octets(raw));

  const username = text(d.get("username")!);
  if (username === null) return malformed("username is not UTF-8");
  if (username === "") return malformed("empty username");
  const bad = (reason: string) => malformed(reason, username);
  const realm = d.has("realm") ? text(d.get("realm")!) : "";
  if (realm === null) return bad("realm is not UTF-8");
  const authzidRaw = d.get("authzid");
  const authzid = authzidRaw === undefined ? null : utf8(authzidRaw);
  if (authzid === null && authzidRaw !== undefined) return bad("authzid is not UTF-8");
  const cnonce = utf8(d.get("cnonce")!);
  if (cnonce === null || cnonce === "") return bad("unusable cnonce");
  const digestUri = utf8(d.get("digest-uri")!);
  if (digestUri === null) return bad("digest-uri is not UTF-8");
  const nc = d.get("nc")!;
  if (!NC.test(nc)) return bad("nc is not 8 hex digits");
  const digest = d.get("response")!;
  if (!HEX32.test(digest)) return bad("response is not 32 hex digits");
  const qop = d.get("qop") ?? "auth";
  const qopName = qop.toLowerCase();
  if (qopName === "auth-int" || qopName === "auth-conf") {
    return { status: { kind: "fail", reason: `qop=${qopName} was not offered`, login: username } };
  }
  if (qopName !== "auth") return bad("unknown qop");
  if (d.has("cipher")) return bad("cipher without qop=auth-conf");

  // Well-formed; now bound to this exchange. A response made for another nonce, service or host
  // (a replay, or one relayed from elsewhere) fails.
  const fail = (reason: string, login = username): Step => ({ status: { kind: "fail", reason, login } });
  if (d.get("nonce") !== nonce) return fail("nonce does not match the challenge");
  if (Number.parseInt(nc, 16) !== 1) return fail("nonce count is not 1 (reauthentication is not supported)");
  if (d.has("realm") && !sameHost(realm, ctx.hostname)) return fail("realm was not offered");
  const [service, host, serviceName, ...rest] = digestUri.split("/");
  if (
    rest.length > 0 ||
    host === undefined ||
    !sameHost(service ?? "", ctx.service) ||
    !sameHost(host, ctx.hostname) ||
    (serviceName !== undefined && !sameHost(serviceName, ctx.hostname))
  ) {
    return fail(`digest-uri is not ${ctx.service}/${ctx.hostname}`);
  }

  const login = ctx.canonicalLogin(username);
  if (login === null) return fail("unusable login name");
  const secret = await askBackend("shared secret lookup", login, () => ctx.credentials.sharedSecret(login));
  if (!secret.ok) return { status: secret.status };
  // Computed even without a secret, so the answer takes the same time either way.
  const input = { username, realm, nonce, cnonce, nc, qop, digestUri, authzid };
  const expected = digestMd5Response({ ...input, password: secret.value ?? DUMMY_SECRET });
  const match = timingSafeEqual(hexToBytes(expected.response), hexToBytes(digest.toLowerCase()));
  if (secret.value === null || !match) return fail("authentication failure", login);

  const status = await authorizeIdentity(ctx, login, authzid ?? "");
  if (status.kind !== "done") return { status };
  return {
    status: { kind: "more", challenge: encoder.encode(`rspauth=${expected.rspauth}`) },
    state: { stage: "rspauth", authcid: status.identity.authcid, authzid: status.identity.authzid },
  };
}

const server: ServerMechanism = {
  async start(ctx, initial) {
    // The server speaks first: an initial response is a protocol error (RFC 4954 §4: 501).
    if (initial !== null) {
      return { status: { kind: "malformed", reason: "DIGEST-MD5 takes no initial response" } };
    }
    const nonce = nonceFrom(ctx.random(NONCE_OCTETS));
    return {
      status: { kind: "more", challenge: challengeFor(ctx, nonce) },
      state: { stage: "response", nonce },
    };
  },
  async step(ctx, state, response) {
    if (state.stage === "response" && typeof state.nonce === "string") {
      return verifyResponse(ctx, state.nonce, response);
    }
    if (state.stage === "rspauth" && typeof state.authcid === "string" && typeof state.authzid === "string") {
      // RFC 2831 §2.1.3: the client acknowledges rspauth with an empty response.
      if (response.length > 0) {
        return {
          status: {
            kind: "malformed",
            reason: "expected an empty response after rspauth",
            login: state.authcid,
          },
        };
      }
      const status: SaslStatus = {
        kind: "done",
        identity: { authcid: state.authcid, authzid: state.authzid },
      };
      return { status };
    }
    return { status: { kind: "fail", reason: "invalid DIGEST-MD5 state" } };
  },
};

// ---- client ----

function defaultRandom(bytes: number): Uint8Array {
  return crypto.getRandomValues(new Uint8Array(bytes));
}

/** Octets on the wire: UTF-8 under charset=utf-8, else ISO 8859-1 (null when it does not fit). */
function wireText(text: string, utf8: boolean): string | null {
  if (utf8) return binaryString(encoder.encode(text));
  return /^[\0-\xff]*$/.test(text) ? text : null;
}

function respond(
  credentials: ClientCredentials,
  random: (bytes: number) => Uint8Array,
  challenge: Uint8Array,
): { ok: true; response: Uint8Array; rspauth: string } | { ok: false; reason: string } {
  const fail = (reason: string) => ({ ok: false as const, reason });
  if (challenge.length > CHALLENGE_LIMIT) return fail("DIGEST-MD5 challenge longer than 2047 octets");
  const parsed = directiveMap(challenge, new Set(["realm"]));
  if (!parsed.ok) return fail(`DIGEST-MD5 challenge: ${parsed.reason}`);
  const d = parsed.value;
  const nonce = d.get("nonce");
  if (nonce === undefined || !PRINTABLE_ASCII.test(nonce)) {
    return fail("DIGEST-MD5 challenge without a usable nonce");
  }
  if (d.get("algorithm")?.toLowerCase() !== "md5-sess") {
    return fail("DIGEST-MD5 challenge without algorithm=md5-sess");
  }
  const qops = (d.get("qop") ?? "auth").split(",").map((qop) => qop.trim().toLowerCase());
  if (!qops.includes("auth")) return fail("DIGEST-MD5 server does not offer qop=auth");
  const utf8 = d.get("charset")?.toLowerCase() === "utf-8";
  const offeredRealm = d.get("realm");
  const realm = offeredRealm === undefined ? "" : utf8 ? decodeUtf8(octets(offeredRealm)) : offeredRealm;
  if (realm === null) return fail("DIGEST-MD5 realm is not UTF-8");
  const host = credentials.host ?? (realm || null);
  if (host === null) return fail("DIGEST-MD5 needs the server's host name for digest-uri");
  if (credentials.password === undefined) return fail("DIGEST-MD5 needs a password");
  const digestUri = `${credentials.service ?? "smtp"}/${host}`;
  const authzid =
    credentials.authzid && credentials.authzid !== credentials.authcid ? credentials.authzid : null;
  const cnonce = nonceFrom(random(NONCE_OCTETS));
  const hashes = digestMd5Response({
    username: credentials.authcid,
    realm,
    password: credentials.password,
    nonce,
    cnonce,
    nc: "00000001",
    qop: "auth",
    digestUri,
    authzid,
  });
  const username = wireText(credentials.authcid, utf8);
  const realmWire = wireText(realm, utf8);
  if (username === null || realmWire === null || (!utf8 && wireText(credentials.password, false) === null)) {
    return fail("DIGEST-MD5 credentials need charset=utf-8, which the server did not offer");
  }
  const parts = [
    ...(utf8 ? ["charset=utf-8"] : []),
    `username=${quoteDigestValue(username)}`,
    ...(offeredRealm === undefined ? [] : [`realm=${quoteDigestValue(realmWire)}`]),
    `nonce=${quoteDigestValue(nonce)}`,
    "nc=00000001",
    `cnonce="${cnonce}"`,
    `digest-uri=${quoteDigestValue(binaryString(encoder.encode(digestUri)))}`,
    `response=${hashes.response}`,
    "qop=auth",
    ...(authzid === null ? [] : [`authzid=${quoteDigestValue(binaryString(encoder.encode(authzid)))}`]),
  ];
  return { ok: true, response: octets(parts.join(",")), rspauth: hashes.rspauth };
}

function client(credentials: ClientCredentials, random = defaultRandom): ClientMechanism {
  let stage: "challenge" | "rspauth" | "verified" = "challenge";
  let rspauth = "";
  const checkRspauth = (data: Uint8Array): ClientStep => {
    const parsed = directiveMap(data);
    const got = parsed.ok ? parsed.value.get("rspauth") : undefined;
    if (got === undefined || !HEX32.test(got)) {
      return { kind: "fail", reason: "DIGEST-MD5 server sent no rspauth" };
    }
    if (!timingSafeEqual(hexToBytes(got.toLowerCase()), hexToBytes(rspauth))) {
      return { kind: "fail", reason: "DIGEST-MD5 server did not prove it knows the secret (rspauth)" };
    }
    stage = "verified";
    return { kind: "respond", response: EMPTY };
  };
  return {
    async start() {
      return null;
    },
    async step(challenge) {
      if (stage === "challenge") {
        const answer = respond(credentials, random, challenge);
        if (!answer.ok) return { kind: "fail", reason: answer.reason };
        stage = "rspauth";
        rspauth = answer.rspauth;
        return { kind: "respond", response: answer.response };
      }
      if (stage === "rspauth") return checkRspauth(challenge);
      return { kind: "fail", reason: "unexpected DIGEST-MD5 challenge" };
    },
    async finish(final) {
      // Some servers send rspauth with their success reply instead of as a challenge.
      if (stage === "rspauth" && final !== null && final.length > 0) {
        const checked = checkRspauth(final);
        if (checked.kind === "fail") return checked;
      }
      return { kind: "done", verified: stage === "verified" };
    },
  };
}

export const DIGEST_MD5: MechanismSpec = { name: "DIGEST-MD5", properties: PROPERTIES, server, client };
