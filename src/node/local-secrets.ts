// The embedded default's secrets: without POSTERN_ADMIN_TOKEN / POSTERN_SECRET_KEY in the
// environment, the first start makes both, keeps them in <dataDir>/secrets.env (mode 0600) and
// prints the admin token once; later starts reuse them.
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";

export interface LocalSecrets {
  adminToken: string;
  secretKey: string;
  /** True on the start that made them (and printed the token). */
  created: boolean;
}

export const SECRETS_FILE = "secrets.env";

export function ensureLocalSecrets(dataDir: string, announce: (line: string) => void): LocalSecrets {
  const file = path.join(dataDir, SECRETS_FILE);
  if (existsSync(file)) {
    const text = readFileSync(file, "utf8");
    const read = (name: string) => new RegExp(`^${name}=(.+)$`, "m").exec(text)?.[1]?.trim();
    const adminToken = read("POSTERN_ADMIN_TOKEN");
    const secretKey = read("POSTERN_SECRET_KEY");
    if (!adminToken || !secretKey)
      throw new Error(`${file}: POSTERN_ADMIN_TOKEN or POSTERN_SECRET_KEY missing`);
    return { adminToken, secretKey, created: false };
  }
  mkdirSync(dataDir, { recursive: true });
  const adminToken = randomBytes(24).toString("base64url");
  const secretKey = `k1:${randomBytes(32).toString("base64")}`;
  writeFileSync(file, `POSTERN_ADMIN_TOKEN=${adminToken}\nPOSTERN_SECRET_KEY=${secretKey}\n`, {
    mode: 0o600,
  });
  announce(`created ${file}; the admin token (shown once): ${adminToken}`);
  return { adminToken, secretKey, created: true };
}
