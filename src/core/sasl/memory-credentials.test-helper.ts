// Test support for SASL mechanisms: an in-memory CredentialSource and SaslServerContext built
// from plaintext test passwords (keys derived independently of src/core/auth, per RFC 5802), and
// a driver that runs a client mechanism against a server mechanism as the SMTP/HTTP glue would,
// passing the state through JSON as the stateless HTTP endpoint does.
import type {
  ClientMechanism,
  CredentialSource,
  MechanismState,
  SaslServerContext,
  SaslStatus,
  ScramServerKeys,
  ServerMechanism,
} from "./mechanism.ts";

export interface TestAccount {
  password: string;
  /** Opted in to CRAM-MD5 / DIGEST-MD5 (stores the plaintext-equivalent secret). */
  sharedSecret?: boolean;
  /** Logins this account may act as (authzid), besides itself. */
  mayActAs?: string[];
  iterations?: number;
  salt?: Uint8Array;
}

const encoder = new TextEncoder();

async function hmac(hash: "SHA-1" | "SHA-256", key: Uint8Array, data: Uint8Array): Promise<Uint8Array> {
  const k = await crypto.subtle.importKey("raw", key, { name: "HMAC", hash }, false, ["sign"]);
  return new Uint8Array(await crypto.subtle.sign("HMAC", k, data));
}

export async function testScramKeys(
  password: string,
  hash: "SHA-1" | "SHA-256",
  salt: Uint8Array,
  iterations: number,
): Promise<ScramServerKeys> {
  const key = await crypto.subtle.importKey("raw", encoder.encode(password), "PBKDF2", false, ["deriveBits"]);
  const bits = hash === "SHA-1" ? 160 : 256;
  const salted = new Uint8Array(
    await crypto.subtle.deriveBits({ name: "PBKDF2", hash, salt, iterations }, key, bits),
  );
  const clientKey = await hmac(hash, salted, encoder.encode("Client Key"));
  const storedKey = new Uint8Array(await crypto.subtle.digest(hash, clientKey));
  const serverKey = await hmac(hash, salted, encoder.encode("Server Key"));
  return { salt, iterations, storedKey, serverKey };
}

export function memoryCredentials(accounts: Record<string, TestAccount>): CredentialSource {
  return {
    async scram(login, hash) {
      const account = accounts[login];
      if (!account) return null;
      const salt = account.salt ?? encoder.encode(`salt-of-${login}`);
      return testScramKeys(account.password, hash, salt, account.iterations ?? 4096);
    },
    async sharedSecret(login) {
      const account = accounts[login];
      return account?.sharedSecret ? account.password : null;
    },
    async verifyPassword(login, password) {
      return accounts[login]?.password === password;
    },
  };
}

export function testContext(
  accounts: Record<string, TestAccount>,
  overrides: Partial<SaslServerContext> = {},
): SaslServerContext {
  let counter = 0;
  return {
    credentials: memoryCredentials(accounts),
    canonicalLogin: (login) => (login.length > 0 && !/[\x00-\x1f]/.test(login) ? login : null),
    mayActAs: async (authcid, authzid) =>
      authcid === authzid || (accounts[authcid]?.mayActAs ?? []).includes(authzid),
    verifyBearer: async (token) =>
      token === "valid-token-for-alice"
        ? { ok: true, login: "alice" }
        : { ok: false, reason: "token rejected", status: "invalid_token" },
    hostname: "postern.test",
    service: "smtp",
    channelBinding: null,
    externalIdentity: null,
    now: () => 1_700_000_000_000,
    // Deterministic but distinct bytes, so nonces differ between exchanges.
    random: (n) => Uint8Array.from({ length: n }, (_, i) => (i * 31 + ++counter * 17) & 0xff),
    ...overrides,
  };
}

export interface ExchangeResult {
  status: SaslStatus;
  /** Challenges the server sent, in order. */
  challenges: Uint8Array[];
  /** What the client concluded after the server's final data, when the server said done. */
  clientVerified: boolean | null;
  steps: number;
}

/**
 * Runs a whole exchange, round-tripping the server state through JSON between steps (as the
 * stateless HTTP endpoint does). Stops after `maxSteps` to catch a mechanism that never ends.
 */
export async function runExchange(
  server: ServerMechanism,
  client: ClientMechanism,
  ctx: SaslServerContext,
  maxSteps = 10,
): Promise<ExchangeResult> {
  const challenges: Uint8Array[] = [];
  const initial = await client.start();
  let step = await server.start(ctx, initial);
  let steps = 1;
  for (;;) {
    const status = step.status;
    if (status.kind === "done") {
      const finished = await client.finish(status.final ?? null);
      return {
        status,
        challenges,
        clientVerified: finished.kind === "done" ? finished.verified : false,
        steps,
      };
    }
    if (status.kind === "fail" && status.challenge) {
      challenges.push(status.challenge);
      return { status, challenges, clientVerified: null, steps };
    }
    if (status.kind !== "more") return { status, challenges, clientVerified: null, steps };
    if (steps >= maxSteps) throw new Error(`exchange did not end after ${maxSteps} steps`);
    challenges.push(status.challenge);
    const reply = await client.step(status.challenge);
    if (reply.kind !== "respond") {
      return {
        status: { kind: "fail", reason: `client gave up: ${JSON.stringify(reply)}` },
        challenges,
        clientVerified: null,
        steps,
      };
    }
    const state = JSON.parse(JSON.stringify(step.state ?? {})) as MechanismState;
    step = await server.step(ctx, state, reply.response);
    steps++;
  }
}
