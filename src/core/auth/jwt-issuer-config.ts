// The external identity providers whose JWTs Postern accepts as bearer tokens (OAUTHBEARER,
// XOAUTH2, HTTP `Authorization: Bearer`), parsed from the JSON of `postern_jwt_issuers`:
//
//   [{ "issuer": "https://idp.example", "jwks_uri": "https://idp.example/jwks.json",
//      "audiences": ["postern"], "algorithms": ["RS256"], "login_claim": "email",
//      "login_template": "{claim}", "clock_tolerance": 30 }]
//
// Validation is strict: an unknown member is a typo that would otherwise silently weaken a check.

import type { JWK } from "jose";
import { ConfigError } from "../config/settings.ts";

export const JWT_ISSUERS_PARAMETER = "postern_jwt_issuers";

/** Asymmetric algorithms only: an issuer publishes public keys, never a shared secret. */
export const EXTERNAL_JWT_ALGORITHMS = [
  "RS256",
  "RS384",
  "RS512",
  "PS256",
  "PS384",
  "PS512",
  "ES256",
  "ES384",
  "ES512",
  "EdDSA",
  "Ed25519",
] as const;
export type ExternalJwtAlgorithm = (typeof EXTERNAL_JWT_ALGORITHMS)[number];

export const LOGIN_CLAIMS = ["sub", "email", "preferred_username"] as const;
export type LoginClaim = (typeof LOGIN_CLAIMS)[number];

/** The issuer of Postern's own session tokens: reserved, so routing by `iss` is unambiguous. */
export const RESERVED_ISSUER = "postern";

export interface JwtIssuer {
  issuer: string;
  /** Where the issuer publishes its keys; null when `keys` are configured instead. */
  jwksUri: string | null;
  /** Static public keys; null when fetched from `jwksUri`. */
  keys: JWK[] | null;
  /** The token's `aud` must name one of these. */
  audiences: string[];
  algorithms: ExternalJwtAlgorithm[];
  loginClaim: LoginClaim;
  /** `{claim}` is replaced by the claim's value: "{claim}@example.com". */
  loginTemplate: string;
  /** Seconds of clock skew allowed on exp / nbf. */
  clockTolerance: number;
}

const MEMBERS = new Set([
  "issuer",
  "jwks_uri",
  "keys",
  "audiences",
  "algorithms",
  "login_claim",
  "login_template",
  "clock_tolerance",
]);
// OpenID Connect Core §15.1: RS256 is the one algorithm every provider supports.
const DEFAULT_ALGORITHMS: ExternalJwtAlgorithm[] = ["RS256"];
const DEFAULT_CLOCK_TOLERANCE = 30;
const MAX_CLOCK_TOLERANCE = 300;
const CLAIM_PLACEHOLDER = "{claim}";
const CONTROL = /\p{Cc}/u;
const PRIVATE_JWK_MEMBERS = ["d", "p", "q", "dp", "dq", "qi", "oth", "k", "priv"];
const LOOPBACK_HOSTS = new Set(["localhost", "[::1]"]);

/** Parses and validates the parameter's value; empty means no external issuers. Throws ERR_CONFIG. */
export function parseJwtIssuers(value: string): JwtIssuer[] {
  if (value.trim() === "") return [];
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch {
    throw new ConfigError(`${JWT_ISSUERS_PARAMETER}: not valid JSON`);
  }
  if (!Array.isArray(parsed))
    throw new ConfigError(`${JWT_ISSUERS_PARAMETER}: must be a JSON array of issuers`);
  const seen = new Set<string>();
  return parsed.map((entry, index) => {
    const issuer = parseIssuer(entry, `${JWT_ISSUERS_PARAMETER}: issuer ${index + 1}`);
    if (seen.has(issuer.issuer)) {
      throw new ConfigError(`${JWT_ISSUERS_PARAMETER}: issuer ${JSON.stringify(issuer.issuer)} listed twice`);
    }
    seen.add(issuer.issuer);
    return issuer;
  });
}

function parseIssuer(entry: unknown, where: string): JwtIssuer {
  const invalid = (why: string) => new ConfigError(`${where}: ${why}`);
  if (!isObject(entry)) throw invalid("must be an object");
  for (const member of Object.keys(entry)) {
    if (!MEMBERS.has(member)) throw invalid(`unknown member ${JSON.stringify(member)}`);
  }

  const issuer = entry.issuer;
  if (typeof issuer !== "string" || issuer === "" || issuer.length > 1024 || CONTROL.test(issuer)) {
    throw invalid("issuer must be a non-empty string");
  }
  if (issuer === RESERVED_ISSUER)
    throw invalid(`issuer "${RESERVED_ISSUER}" is reserved for Postern's own tokens`);

  const jwksUri = entry.jwks_uri ?? null;
  const keys = entry.keys ?? null;
  if ((jwksUri === null) === (keys === null)) throw invalid("needs exactly one of jwks_uri and keys");
  if (jwksUri !== null) checkJwksUri(jwksUri, invalid);

  const algorithms = parseAlgorithms(entry.algorithms, invalid);
  if (keys !== null) checkKeys(keys, invalid);

  const audiences = entry.audiences;
  if (
    !Array.isArray(audiences) ||
    audiences.length === 0 ||
    !audiences.every((audience) => typeof audience === "string" && audience !== "")
  ) {
    throw invalid(
      "audiences must be a non-empty array of strings (a token for another service must not work here)",
    );
  }

  const loginClaim = entry.login_claim ?? "sub";
  if (!(LOGIN_CLAIMS as readonly unknown[]).includes(loginClaim)) {
    throw invalid(`login_claim must be one of ${LOGIN_CLAIMS.join(", ")}`);
  }

  const loginTemplate = entry.login_template ?? CLAIM_PLACEHOLDER;
  if (
    typeof loginTemplate !== "string" ||
    loginTemplate.split(CLAIM_PLACEHOLDER).length !== 2 ||
    loginTemplate.length > 256 ||
    CONTROL.test(loginTemplate)
  ) {
    throw invalid(`login_template must contain ${CLAIM_PLACEHOLDER} exactly once`);
  }

  const clockTolerance = entry.clock_tolerance ?? DEFAULT_CLOCK_TOLERANCE;
  if (
    typeof clockTolerance !== "number" ||
    !Number.isInteger(clockTolerance) ||
    clockTolerance < 0 ||
    clockTolerance > MAX_CLOCK_TOLERANCE
  ) {
    throw invalid(`clock_tolerance must be a whole number of seconds from 0 to ${MAX_CLOCK_TOLERANCE}`);
  }

  return {
    issuer,
    jwksUri: jwksUri as string | null,
    keys: keys as JWK[] | null,
    audiences: [...audiences] as string[],
    algorithms,
    loginClaim: loginClaim as LoginClaim,
    loginTemplate,
    clockTolerance,
  };
}

function checkJwksUri(value: unknown, invalid: (why: string) => ConfigError): void {
  if (typeof value !== "string") throw invalid("jwks_uri must be a URL");
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw invalid("jwks_uri must be a URL");
  }
  // Keys fetched in the clear can be swapped by anyone on the path; loopback is for local IdPs and tests.
  const loopback = LOOPBACK_HOSTS.has(url.hostname) || /^127\.\d+\.\d+\.\d+$/.test(url.hostname);
  if (url.protocol !== "https:" && !(url.protocol === "http:" && loopback)) {
    throw invalid("jwks_uri must be https (http only on loopback)");
  }
  if (url.username !== "" || url.password !== "") throw invalid("jwks_uri must not carry credentials");
}

function parseAlgorithms(value: unknown, invalid: (why: string) => ConfigError): ExternalJwtAlgorithm[] {
  if (value === undefined) return [...DEFAULT_ALGORITHMS];
  if (!Array.isArray(value) || value.length === 0) throw invalid("algorithms must be a non-empty array");
  for (const algorithm of value) {
    if (typeof algorithm !== "string") throw invalid("algorithms must be strings");
    if (algorithm.toLowerCase() === "none")
      throw invalid('algorithm "none" means unsigned tokens: never accepted');
    if (/^HS/i.test(algorithm)) {
      throw invalid(
        `${algorithm} needs a shared secret, not an issuer's public key: not accepted for external issuers`,
      );
    }
    if (!(EXTERNAL_JWT_ALGORITHMS as readonly string[]).includes(algorithm)) {
      throw invalid(`unknown algorithm ${JSON.stringify(algorithm)}`);
    }
  }
  return [...new Set(value as ExternalJwtAlgorithm[])];
}

function checkKeys(value: unknown, invalid: (why: string) => ConfigError): void {
  if (!Array.isArray(value) || value.length === 0) throw invalid("keys must be a non-empty array of JWKs");
  value.forEach((key, index) => {
    const which = `keys[${index}]`;
    if (!isObject(key)) throw invalid(`${which} must be a JWK object`);
    if (key.kty !== "RSA" && key.kty !== "EC" && key.kty !== "OKP")
      throw invalid(`${which}: kty must be RSA, EC or OKP`);
    // A private member here means a private key was pasted into the configuration.
    if (PRIVATE_JWK_MEMBERS.some((member) => member in key)) throw invalid(`${which} must be a public key`);
    if (key.alg !== undefined && !(EXTERNAL_JWT_ALGORITHMS as readonly unknown[]).includes(key.alg)) {
      throw invalid(`${which}: alg must be one of the accepted asymmetric algorithms`);
    }
  });
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
