// Accounts: the saslpasswd2 of Postern. Passwords are turned into SCRAM records at once and never
// stored; a generated password is shown once, in the response that created it.
import { Hono } from "hono";
import { z } from "zod";
import { deriveScramRecord } from "../../core/auth/scram-record.ts";
import { bytesToBase64Url } from "../../core/encoding/base64.ts";
import { withRealm } from "../basic-auth.ts";
import { ProblemError } from "../problem.ts";
import type { AppEnv } from "../services.ts";
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

const createBody = z.object({
  login,
  password: password.optional(),
  iterations: iterations.optional(),
  note: z.string().max(500).nullable().optional(),
});
const updateBody = z.object({
  password: password.optional(),
  iterations: iterations.optional(),
  disabled: z.boolean().optional(),
  note: z.string().max(500).nullable().optional(),
});

export const adminAccounts = new Hono<AppEnv>();

adminAccounts.get("/", async (c) => c.json({ accounts: await c.get("services").accounts.list() }));

adminAccounts.post("/", async (c) => {
  const body = await parseJson(c.req.raw, createBody);
  const generated = body.password === undefined ? generatePassword() : null;
  const scram = await deriveScramRecord(body.password ?? generated!, { iterations: body.iterations });
  const fullLogin = withRealm(body.login, c.get("requestSettings"));
  const account = await c
    .get("services")
    .accounts.create({ login: fullLogin, scram, note: body.note ?? null });
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

adminAccounts.get("/:login", async (c) => {
  const account = await c.get("services").accounts.find(c.req.param("login"));
  if (!account) throw notFound();
  return c.json(account);
});

adminAccounts.patch("/:login", async (c) => {
  const services = c.get("services");
  const body = await parseJson(c.req.raw, updateBody);
  const existing = await services.accounts.find(c.req.param("login"));
  if (!existing) throw notFound();
  const scram = body.password
    ? await deriveScramRecord(body.password, { iterations: body.iterations })
    : undefined;
  const updated = await services.accounts.update(existing.id, {
    scram,
    disabled: body.disabled,
    note: body.note,
  });
  return c.json(updated);
});

adminAccounts.delete("/:login", async (c) => {
  const services = c.get("services");
  const existing = await services.accounts.find(c.req.param("login"));
  if (!existing || !(await services.accounts.delete(existing.id))) throw notFound();
  return c.body(null, 204);
});

function notFound(): ProblemError {
  return new ProblemError({ slug: "not-found", title: "Not found", status: 404, detail: "No such account" });
}

/** 144 bits from the CSPRNG, base64url: typeable and far beyond guessing. */
function generatePassword(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(18));
  return bytesToBase64Url(bytes);
}
