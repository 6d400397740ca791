// The Hono app, built from injected services so that Workers and Node run the same routes.
import { Hono } from "hono";
import { HTTPException } from "hono/http-exception";
import { clientInfo } from "./client-info.ts";
import { openApiDocument, REFERENCE_PAGE } from "./openapi/document.ts";
import { ProblemError, problemResponse } from "./problem.ts";
import { adminAccounts } from "./routes/admin-accounts.ts";
import { requireAdmin } from "./routes/admin-auth.ts";
import { adminMaps } from "./routes/admin-maps.ts";
import { adminQueue } from "./routes/admin-queue.ts";
import { adminRelay } from "./routes/admin-relay.ts";
import { adminSettings } from "./routes/admin-settings.ts";
import { adminTemplates } from "./routes/admin-templates.ts";
import { adminWebhooks } from "./routes/admin-webhooks.ts";
import { messageRoutes } from "./routes/messages.ts";
import { policyRoutes } from "./routes/policy.ts";
import { saslRoutes } from "./routes/sasl.ts";
import { webhookEndpointRoutes } from "./routes/webhook-endpoints.ts";
import { webhookRoutes } from "./routes/webhooks.ts";
import type { AppEnv, Services } from "./services.ts";

export type ServicesFactory = (env: unknown, request: Request) => Services;

export function createApp(makeServices: ServicesFactory): Hono<AppEnv> {
  const app = new Hono<AppEnv>();

  app.use(async (c, next) => {
    const services = makeServices(c.env, c.req.raw);
    c.set("services", services);
    c.set("client", clientInfo(c.req.raw.headers));
    c.set("requestSettings", await services.loadSettings());
    await next();
    // Events reported in the background during the request (auth.failed) are recorded first.
    await services.events.settle();
  });

  app.get("/", (c) => c.json({ name: "postern", api: "/v1" }));
  app.get("/healthz", (c) => c.text("ok"));

  app.route("/v1/messages", messageRoutes);
  app.route("/v1/auth/sasl", saslRoutes);
  app.route("/v1/policy", policyRoutes);
  app.route("/v1/webhooks", webhookRoutes);
  app.route("/v1/webhook-endpoints", webhookEndpointRoutes);

  app.use("/v1/admin/*", requireAdmin);
  app.route("/v1/admin/accounts", adminAccounts);
  app.route("/v1/admin/maps", adminMaps);
  app.route("/v1/admin/relay", adminRelay);
  app.route("/v1/admin/settings", adminSettings);
  app.route("/v1/admin/queue", adminQueue);
  app.route("/v1/admin/accounts/:login/templates", adminTemplates);
  app.route("/v1/admin/webhooks", adminWebhooks);

  app.get("/openapi.json", openApiDocument(app));
  app.get("/reference", (c) => c.html(REFERENCE_PAGE));

  app.notFound(() => problemResponse({ slug: "not-found", title: "Not found", status: 404 }));

  app.onError((error, c) => {
    if (error instanceof ProblemError) return problemResponse(error.problem, error.headers);
    if (error instanceof HTTPException) {
      return problemResponse({
        slug: "http-error",
        title: error.message || "Request failed",
        status: error.status,
      });
    }
    const transient = (error as { transient?: boolean }).transient === true;
    const code = (error as { code?: string }).code;
    c.get("services")?.logger.error(
      `error: ${c.req.method} ${new URL(c.req.url).pathname}: ${code ?? ""} ${error.message}`,
    );
    return problemResponse(
      transient
        ? {
            slug: "temporarily-unavailable",
            title: "Temporarily unavailable",
            status: 503,
            detail: "A back end is temporarily unavailable; nothing was accepted. Try again.",
            smtpStatus: "4.3.0",
            smtpReply: "451 4.3.0 Error: queue file write error",
          }
        : { slug: "internal-error", title: "Internal error", status: 500, smtpStatus: "4.3.0" },
      transient ? { "retry-after": "30" } : {},
    );
  });

  return app;
}
