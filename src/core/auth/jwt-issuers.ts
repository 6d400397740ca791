// Verifies bearer JWTs from the configured external issuers (jwt-issuer-config.ts) with jose: the issuer
// is picked by the token's unverified `iss`, then the signature is checked against that issuer's
// keys only, with its audiences, algorithm allow-list and clock tolerance, and `exp` required.
//
// Create one verifier per isolate / process and keep it: each remote key set is fetched once and
// cached by jose (cacheMaxAgeMs), refetched early only for an unknown `kid` and at most once per
// cooldownMs, so a stream of forged kids cannot turn into a stream of requests to the issuer.

import {
  createLocalJWKSet,
  createRemoteJWKSet,
  customFetch,
  decodeJwt,
  errors,
  type FetchImplementation,
  type JWTPayload,
  type JWTVerifyGetKey,
  type JWTVerifyOptions,
  jwtVerify,
} from "jose";
import { describeJwtFailure } from "./jwt-failure.ts";
import { type JwtIssuer, parseJwtIssuers } from "./jwt-issuer-config.ts";

export interface BearerVerifierOptions {
  /** For the key set requests (tests, a service binding). Defaults to the global fetch. */
  fetch?: typeof fetch;
  /** Milliseconds since the epoch for exp / nbf checks. jose's key cache keeps its own clock. */
  now?: () => number;
  /** How long a fetched key set is used before it is fetched again. Default 10 minutes. */
  cacheMaxAgeMs?: number;
  /** Minimum time between fetches caused by an unknown kid. Default 30 seconds. */
  cooldownMs?: number;
  /** Key set request timeout. Default 5 seconds. */
  timeoutMs?: number;
}

export type BearerVerdict =
  | {
      ok: true;
      login: string;
      issuer: string;
      /** `exp` in milliseconds since the epoch (always present: exp is required). */
      expiresAt: number | null;
    }
  | {
      ok: false;
      /** Short fixed text, safe for logs and for the client; never the token or a claim. */
      reason: string;
      status: "invalid_token" | "invalid_request";
      /** Could not decide (key set unreachable): a temporary failure, not a wrong token. */
      transient: boolean;
    };

export interface BearerVerifier {
  verify(token: string): Promise<BearerVerdict>;
}

/** Longer than any real access token; checked before any parsing. */
export const BEARER_TOKEN_LIMIT = 16384;
const LOGIN_LIMIT = 256;
// Tokens without a kid may match several keys of a set; each costs a signature check.
const MAX_CANDIDATE_KEYS = 4;
const CONTROL = /\p{Cc}/u;

interface IssuerVerifier {
  issuer: JwtIssuer;
  keySet: JWTVerifyGetKey;
}

/**
 * `issuers` is the parsed configuration, or the raw `postern_jwt_issuers` JSON (parsed here, so a
 * bad value throws ERR_CONFIG when the verifier is made, not per token).
 */
export function createBearerVerifier(
  issuers: string | readonly JwtIssuer[],
  options: BearerVerifierOptions = {},
): BearerVerifier {
  if (typeof issuers === "string") issuers = parseJwtIssuers(issuers);
  const byIssuer = new Map<string, IssuerVerifier>();
  for (const issuer of issuers) {
    byIssuer.set(issuer.issuer, { issuer, keySet: keySetOf(issuer, options) });
  }
  const now = options.now ?? Date.now;

  async function verify(token: string): Promise<BearerVerdict> {
    if (typeof token !== "string" || token === "") return refuse("empty token", "invalid_request");
    if (token.length > BEARER_TOKEN_LIMIT) return refuse("token too large", "invalid_request");
    let unverified: JWTPayload;
    try {
      unverified = decodeJwt(token);
    } catch {
      return refuse("malformed token");
    }
    if (typeof unverified.iss !== "string") return refuse("missing issuer");
    const entry = byIssuer.get(unverified.iss);
    if (entry === undefined) return refuse("unknown issuer");
    const { issuer } = entry;

    let payload: JWTPayload;
    try {
      payload = await verifyWithKeySet(token, entry.keySet, {
        issuer: issuer.issuer,
        audience: issuer.audiences,
        algorithms: issuer.algorithms,
        clockTolerance: issuer.clockTolerance,
        currentDate: new Date(now()),
        requiredClaims: ["exp"],
      });
    } catch (error) {
      const failure = describeJwtFailure(error);
      return refuse(failure.reason, "invalid_token", failure.transient);
    }

    const value = payload[issuer.loginClaim];
    if (typeof value !== "string" || value === "") return refuse(`missing ${issuer.loginClaim}`);
    // An address the issuer itself marks unverified is only what the user typed at sign-up.
    if (issuer.loginClaim === "email" && payload.email_verified === false)
      return refuse("email not verified");
    // A function replacement: "$&" and friends in a claim must stay literal.
    const login = issuer.loginTemplate.replace("{claim}", () => value);
    if (login.length > LOGIN_LIMIT || CONTROL.test(login)) return refuse(`unusable ${issuer.loginClaim}`);
    return {
      ok: true,
      login,
      issuer: issuer.issuer,
      expiresAt: typeof payload.exp === "number" ? payload.exp * 1000 : null,
    };
  }

  return { verify };
}

function refuse(
  reason: string,
  status: "invalid_token" | "invalid_request" = "invalid_token",
  transient = false,
): BearerVerdict {
  return { ok: false, reason, status, transient };
}

function keySetOf(issuer: JwtIssuer, options: BearerVerifierOptions): JWTVerifyGetKey {
  if (issuer.keys !== null) return createLocalJWKSet({ keys: issuer.keys });
  return createRemoteJWKSet(new URL(issuer.jwksUri!), {
    cacheMaxAge: options.cacheMaxAgeMs ?? 600_000,
    cooldownDuration: options.cooldownMs ?? 30_000,
    timeoutDuration: options.timeoutMs ?? 5_000,
    ...(options.fetch ? { [customFetch]: options.fetch as unknown as FetchImplementation } : {}),
  });
}

/**
 * jwtVerify, trying each matching key when a token without a kid matches several keys of the set
 * (jose hands them out through the error's async iterator).
 */
async function verifyWithKeySet(
  token: string,
  keySet: JWTVerifyGetKey,
  options: JWTVerifyOptions,
): Promise<JWTPayload> {
  try {
    return (await jwtVerify(token, keySet, options)).payload;
  } catch (error) {
    if (!(error instanceof errors.JWKSMultipleMatchingKeys)) throw error;
    let tried = 0;
    for await (const key of error) {
      if (++tried > MAX_CANDIDATE_KEYS) break;
      try {
        return (await jwtVerify(token, key, options)).payload;
      } catch (inner) {
        if (!(inner instanceof errors.JWSSignatureVerificationFailed)) throw inner;
      }
    }
    throw new errors.JWSSignatureVerificationFailed();
  }
}
