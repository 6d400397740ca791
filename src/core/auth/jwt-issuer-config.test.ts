import { describe, expect, it } from "vitest";
import { parseJwtIssuers } from "./jwt-issuer-config.ts";

const RSA_PUBLIC = { kty: "RSA", n: "sXch", e: "AQAB", kid: "k1" };
const base = {
  issuer: "https://idp.example",
  jwks_uri: "https://idp.example/jwks.json",
  audiences: ["postern"],
};
const one = (overrides: Record<string, unknown>) => JSON.stringify([{ ...base, ...overrides }]);

describe("parseJwtIssuers", () => {
  it("reads an issuer with every member and applies nothing extra", () => {
    const value = one({
      algorithms: ["RS256", "ES256", "EdDSA"],
      login_claim: "email",
      login_template: "{claim}",
      clock_tolerance: 10,
    });
    expect(parseJwtIssuers(value)).toEqual([
      {
        issuer: "https://idp.example",
        jwksUri: "https://idp.example/jwks.json",
        keys: null,
        audiences: ["postern"],
        algorithms: ["RS256", "ES256", "EdDSA"],
        loginClaim: "email",
        loginTemplate: "{claim}",
        clockTolerance: 10,
      },
    ]);
  });

  it("defaults to sub, {claim}, RS256 and 30 s of skew", () => {
    expect(parseJwtIssuers(one({}))[0]).toMatchObject({
      loginClaim: "sub",
      loginTemplate: "{claim}",
      algorithms: ["RS256"],
      clockTolerance: 30,
    });
  });

  it("accepts static keys instead of a jwks_uri, and an explicit null for the other", () => {
    const [issuer] = parseJwtIssuers(one({ jwks_uri: null, keys: [RSA_PUBLIC] }));
    expect(issuer).toMatchObject({ jwksUri: null, keys: [RSA_PUBLIC] });
  });

  it("allows plain http for a loopback key set only", () => {
    expect(parseJwtIssuers(one({ jwks_uri: "http://127.0.0.1:8080/jwks" }))[0]!.jwksUri).toBe(
      "http://127.0.0.1:8080/jwks",
    );
    expect(parseJwtIssuers(one({ jwks_uri: "http://localhost/jwks" }))).toHaveLength(1);
  });

  it("reads an empty parameter as no issuers", () => {
    expect(parseJwtIssuers("")).toEqual([]);
    expect(parseJwtIssuers("  ")).toEqual([]);
    expect(parseJwtIssuers("[]")).toEqual([]);
  });

  it.each([
    { name: "not JSON", value: "[{", message: /not valid JSON/ },
    { name: "not an array", value: JSON.stringify(base), message: /JSON array/ },
    { name: "entry not an object", value: "[1]", message: /must be an object/ },
    { name: "unknown member (typo)", value: one({ audience: ["x"] }), message: /unknown member "audience"/ },
    { name: "missing issuer", value: one({ issuer: undefined }), message: /issuer must be/ },
    { name: "reserved issuer", value: one({ issuer: "postern" }), message: /reserved/ },
    { name: "both jwks_uri and keys", value: one({ keys: [RSA_PUBLIC] }), message: /exactly one/ },
    { name: "neither jwks_uri nor keys", value: one({ jwks_uri: undefined }), message: /exactly one/ },
    { name: "jwks_uri not a URL", value: one({ jwks_uri: "idp.example/jwks" }), message: /must be a URL/ },
    { name: "jwks_uri over http", value: one({ jwks_uri: "http://idp.example/jwks" }), message: /https/ },
    {
      name: "jwks_uri with credentials",
      value: one({ jwks_uri: "https://u:p@idp.example/" }),
      message: /credentials/,
    },
    { name: "alg none", value: one({ algorithms: ["none"] }), message: /never accepted/ },
    { name: "alg HS256", value: one({ algorithms: ["RS256", "HS256"] }), message: /shared secret/ },
    { name: "alg HS512", value: one({ algorithms: ["HS512"] }), message: /shared secret/ },
    { name: "unknown alg", value: one({ algorithms: ["RS1"] }), message: /unknown algorithm/ },
    { name: "empty algorithms", value: one({ algorithms: [] }), message: /non-empty/ },
    { name: "no audiences", value: one({ audiences: undefined }), message: /audiences/ },
    { name: "empty audiences", value: one({ audiences: [] }), message: /audiences/ },
    { name: "empty audience", value: one({ audiences: [""] }), message: /audiences/ },
    { name: "audience not a list", value: one({ audiences: "postern" }), message: /audiences/ },
    { name: "bad login_claim", value: one({ login_claim: "name" }), message: /login_claim/ },
    { name: "template without {claim}", value: one({ login_template: "alice" }), message: /login_template/ },
    {
      name: "template with {claim} twice",
      value: one({ login_template: "{claim}{claim}" }),
      message: /login_template/,
    },
    { name: "negative tolerance", value: one({ clock_tolerance: -1 }), message: /clock_tolerance/ },
    { name: "fractional tolerance", value: one({ clock_tolerance: 1.5 }), message: /clock_tolerance/ },
    { name: "huge tolerance", value: one({ clock_tolerance: 86400 }), message: /clock_tolerance/ },
    {
      name: "private key in keys",
      value: one({ jwks_uri: undefined, keys: [{ ...RSA_PUBLIC, d: "secret" }] }),
      message: /public key/,
    },
    {
      name: "symmetric key in keys",
      value: one({ jwks_uri: undefined, keys: [{ kty: "oct", k: "c2VjcmV0" }] }),
      message: /kty/,
    },
    {
      name: "key declaring HS256",
      value: one({ jwks_uri: undefined, keys: [{ ...RSA_PUBLIC, alg: "HS256" }] }),
      message: /alg must be/,
    },
    { name: "empty keys", value: one({ jwks_uri: undefined, keys: [] }), message: /non-empty array/ },
    { name: "issuer listed twice", value: JSON.stringify([base, base]), message: /listed twice/ },
  ])("refuses $name with ERR_CONFIG", ({ value, message }) => {
    expect(() => parseJwtIssuers(value)).toThrow(expect.objectContaining({ code: "ERR_CONFIG" }));
    expect(() => parseJwtIssuers(value)).toThrow(message);
  });

  it("names the parameter and position in its errors, never key material", () => {
    const value = JSON.stringify([
      base,
      { ...base, issuer: "b", jwks_uri: undefined, keys: [{ ...RSA_PUBLIC, d: "s3cret" }] },
    ]);
    expect(() => parseJwtIssuers(value)).toThrow(
      /^postern_jwt_issuers: issuer 2: keys\[0\] must be a public key$/,
    );
  });
});
