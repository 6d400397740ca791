// Test support for bearer JWT verification: a real JWKS endpoint on 127.0.0.1 (node:http, which
// the core project's tests run on), counting requests so caching can be asserted, and key pairs
// with their public JWKs. node:http is loaded by a computed specifier so the portable core's
// type check (Workers types, no Node types) never sees it.

import { exportJWK, generateKeyPair, type JWK, type JWTPayload, SignJWT } from "jose";

interface NodeResponse {
  statusCode: number;
  setHeader(name: string, value: string): void;
  end(body?: string): void;
}
interface NodeServer {
  listen(port: number, host: string, callback: () => void): void;
  address(): { port: number };
  close(callback: () => void): void;
  closeAllConnections(): void;
}
interface NodeHttp {
  createServer(handler: (request: { url?: string }, response: NodeResponse) => void): NodeServer;
}

export interface JwksServer {
  /** The JWKS URL to configure as jwks_uri. */
  url: string;
  /** How many times the key set was fetched. */
  readonly requests: number;
  /** Serve these keys from now on (key rotation). */
  setKeys(keys: JWK[]): void;
  /** Answer with this HTTP status instead of the keys (an issuer outage). */
  setStatus(status: number): void;
  close(): Promise<void>;
}

export async function startJwksServer(keys: JWK[]): Promise<JwksServer> {
  const specifier = "node:http";
  const http = (await import(/* @vite-ignore */ specifier)) as NodeHttp;
  let served = keys;
  let status = 200;
  let requests = 0;
  const server = http.createServer((request, response) => {
    if (request.url !== "/jwks.json") {
      response.statusCode = 404;
      response.end();
      return;
    }
    requests++;
    response.statusCode = status;
    response.setHeader("content-type", "application/jwk-set+json");
    response.end(status === 200 ? JSON.stringify({ keys: served }) : "unavailable");
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${server.address().port}/jwks.json`,
    get requests() {
      return requests;
    },
    setKeys(next) {
      served = next;
    },
    setStatus(next) {
      status = next;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export interface TestSigner {
  kid: string;
  alg: string;
  privateKey: CryptoKey;
  publicKey: CryptoKey;
  /** The public JWK as an issuer publishes it (kid, alg, use). */
  jwk: JWK;
  /** Signs `claims` with this key; `header` adds to or overrides { alg, kid }. */
  sign(claims: JWTPayload, header?: Record<string, unknown>): Promise<string>;
}

export async function testSigner(alg: "RS256" | "ES256" | "EdDSA", kid: string): Promise<TestSigner> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  const jwk = { ...(await exportJWK(publicKey)), kid, alg, use: "sig" };
  return {
    kid,
    alg,
    privateKey,
    publicKey,
    jwk,
    sign: (claims, header = {}) =>
      new SignJWT(claims).setProtectedHeader({ alg, kid, ...header }).sign(privateKey),
  };
}

const base64url = (text: string) => btoa(text).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");

/** An unsecured JWT (RFC 7519 §6.1), built by hand as an attacker would. */
export function unsecuredJwt(claims: JWTPayload): string {
  return `${base64url(JSON.stringify({ alg: "none", typ: "JWT" }))}.${base64url(JSON.stringify(claims))}.`;
}
