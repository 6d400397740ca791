// First `npm run dev` on a fresh clone: make the local secrets (.dev.vars, git-ignored) that
// `wrangler dev` reads, and print the admin token once. Later starts keep them.
import { randomBytes } from "node:crypto";
import { existsSync, writeFileSync } from "node:fs";

const file = new URL("../.dev.vars", import.meta.url);

if (!existsSync(file)) {
  const token = randomBytes(24).toString("base64url");
  const key = randomBytes(32).toString("base64");
  writeFileSync(file, `POSTERN_ADMIN_TOKEN=${token}\nPOSTERN_SECRET_KEY=k1:${key}\n`, { mode: 0o600 });
  console.log(`Created .dev.vars with a new admin token (shown once): ${token}`);
  console.log("`npm run admin -- ...` reads it from .dev.vars on this machine.");
}
