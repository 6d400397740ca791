// The admin API is closed unless POSTERN_ADMIN_TOKEN is set, and then needs it as a Bearer token.
import { createMiddleware } from "hono/factory";
import { checkAdminToken } from "../../core/auth/admin-token.ts";
import { ProblemError } from "../problem.ts";
import type { AppEnv } from "../services.ts";

export const requireAdmin = createMiddleware<AppEnv>(async (c, next) => {
  const header = c.req.header("authorization") ?? "";
  const presented = /^Bearer\s+(\S+)$/i.exec(header)?.[1];
  if (!(await checkAdminToken(presented, c.get("services").adminToken))) {
    throw new ProblemError(
      { slug: "admin-unauthorized", title: "Admin credentials required", status: 401 },
      { "www-authenticate": 'Bearer realm="postern-admin"' },
    );
  }
  await next();
});
