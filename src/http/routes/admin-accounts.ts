// Accounts: the saslpasswd2 of Postern. Passwords are turned into SCRAM records at once and never
// stored; a generated password is shown once, in the response that created it.
import { Hono } from "hono";
import { z } from "zod";
import { deriveCredentialRecord } from "../../core/auth/scram-record.ts";
import { sealSecret } from "../../core/auth/secret-box.ts";
import { bytesToBase64Url } from "../../core/encoding/base64.ts";
import { sharedSecretContext } from "../../db/credential-source.ts";
import { describeAdmin } from "../openapi/describe.ts";
import { ProblemError } from "../problem.ts";
import type { AppEnv } from "../services.ts";
import { withRealm } from "../transport.ts";
import { parseJson } from "./parse-json.ts";

const login = z
  .string()
  .min(1)
  .max(256)
  .regex(/^[^\x00-\x20\x7f:]+$/, "no spaces, colons or control characters");
const password = z
  .string()
  .min(8, "at least 8 characters")
  .max(1024)
  .regex(/^[^\x00-\x1f\x7f]+$/, "no control characters");
const iterations = z.number().int().min(4096).max(100_000);

/**
 * shared_secret: also keep a sealed plaintext-equivalent secret, which CRAM-MD5 and DIGEST-MD5
 * need. Whoever holds the database and POSTERN_SECRET_KEY can then log in as the account; without
 * it those two mechanisms fail for the account and every other mechanism works from the SCRAM keys.
 */
const createBody = z.object({
  login,
  password: password.optional(),
  iterations: iterations.optional(),
  shared_secret: z.boolean().optional(),
  note: z.string().max(500).nullable().optional(),
});
const updateBody = z.object({
  password: password.optional(),
  iterations: iterations.optional(),
  shared_secret: z.boolean().optional(),
  disabled: z.boolean().optional(),
  note: z.string().max(500).nullable().optional(),
});

/** OpenAPI descriptions (GET /openapi.json). */
const doc = {
  list: describeAdmin("listAccounts", "List accounts"),
  create: describeAdmin("createAccount", "Create an account (saslpasswd2 -c)", createBody, 201),
  show: describeAdmin("getAccount", "Show an account"),
  update: describeAdmin("updateAccount", "Change password, disable, note", updateBody),
  remove: describeAdmin("deleteAccount", "Delete an account (saslpasswd2 -d)"),
};

export const adminAccounts = new Hono<AppEnv>();

adminAccounts.get("/", doc.list, async (c) => c.json({ accounts: await c.get("services").accounts.list() }));

adminAccounts.post("/", doc.create, async (c) => {
  const services = c.get("services");
  const body = await parseJson(c.req.raw, createBody);
  const generated = body.password === undefined ? generatePassword() : null;
  const secret = body.password ?? generated!;
  const credential = await deriveCredentialRecord(secret, { iterations: body.iterations });
  const fullLogin = withRealm(body.login, c.get("requestSettings"));
  const sharedSecret = body.shared_secret ? await sealShared(services, fullLogin, secret) : null;
  const account = await services.accounts.create({
    login: fullLogin,
    credential,
    sharedSecret,
    note: body.note ?? null,
  });
  if (!account) {
    throw new ProblemError({
      slug: "conflict",
      title: "Login exists",
      status: 409,
      detail: `${fullLogin} exists`,
    });
  }
  return c.json({ ...account, ...(generated ? { password: generated } : {}) }, 201);
});

adminAccounts.get("/:login", doc.show, async (c) => {
  const account = await c.get("services").accounts.find(c.req.param("login"));
  if (!account) throw notFound();
  return c.json(account);
});

adminAccounts.patch("/:login", doc.update, async (c) => {
  const services = c.get("services");
  const body = await parseJson(c.req.raw, updateBody);
  const existing = await services.accounts.find(c.req.param("login"));
  if (!existing) throw notFound();
  if (body.shared_secret && !body.password) {
    throw new ProblemError({
      slug: "invalid-request",
      title: "Password required",
      status: 422,
      detail: "shared_secret needs the password in the same request: only the SCRAM keys are stored",
    });
  }
  let change: Parameters<typeof services.accounts.update>[1] = { disabled: body.disabled, note: body.note };
  if (body.password) {
    const credential = await deriveCredentialRecord(body.password, { iterations: body.iterations });
    // A new password replaces the shared secret too: kept (re-sealed) only when asked for again.
    const sharedSecret = body.shared_secret
      ? await sealShared(services, existing.login, body.password)
      : null;
    change = { ...change, credential, sharedSecret };
  } else if (body.shared_secret === false) {
    change = { ...change, sharedSecret: null };
  }
  return c.json(await services.accounts.update(existing.id, change));
});

adminAccounts.delete("/:login", doc.remove, async (c) => {
  const services = c.get("services");
  const existing = await services.accounts.find(c.req.param("login"));
  if (!existing || !(await services.accounts.delete(existing.id))) throw notFound();
  return c.body(null, 204);
});

async function sealShared(
  services: AppEnv["Variables"]["services"],
  login: string,
  secret: string,
): Promise<string> {
  if (!services.secretKeys) {
    throw new ProblemError({
      slug: "secret-key-missing",
      title: "No key for secrets",
      status: 409,
      detail: "shared_secret needs POSTERN_SECRET_KEY to seal the secret at rest",
    });
  }
  return sealSecret(services.secretKeys, secret, sharedSecretContext(login));
}

function notFound(): ProblemError {
  return new ProblemError({ slug: "not-found", title: "Not found", status: 404, detail: "No such account" });
}

/** 144 bits from the CSPRNG, base64url: typeable and far beyond guessing. */
function generatePassword(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(18));
  return bytesToBase64Url(bytes);
}
