// One `npm test`: portable core unit tests on Node, and integration tests inside the real Workers
// runtime (local D1, R2, Queues) against a real SMTP smarthost process.
import path from "node:path";
import { defineConfig } from "vitest/config";
import { makeTestCertificates } from "./test/smarthost/certificates.ts";

// workerd must trust the smarthost's test CA: miniflare reads NODE_EXTRA_CA_CERTS once, when it is
// loaded, so the certificates are made and the variable set before the plugin is imported.
const certificates = makeTestCertificates(path.resolve(".wrangler/test-certs"));
process.env.NODE_EXTRA_CA_CERTS = certificates.caFile;
process.env.POSTERN_TEST_CERT_DIR = certificates.dir;
const { cloudflareTest, readD1Migrations } = await import("@cloudflare/vitest-plugin");

const migrations = await readD1Migrations(path.resolve("migrations"));

export default defineConfig({
  test: {
    reporters: ["default", "./test/count-reporter.ts"],
    projects: [
      {
        test: {
          name: "core",
          include: ["src/**/*.test.ts", "test/node/**/*.test.ts"],
          environment: "node",
        },
      },
      {
        plugins: [
          cloudflareTest(({ inject }) => ({
            wrangler: { configPath: "./wrangler.jsonc" },
            miniflare: {
              bindings: {
                TEST_MIGRATIONS: migrations,
                POSTERN_ADMIN_TOKEN: "test-admin-token",
                POSTERN_SECRET_KEY: "k1:MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=",
                TEST_SMARTHOST: inject<string>("smarthost"),
                TEST_DOVECOT: inject<string>("dovecot"),
                TEST_WEBHOOK_RECEIVER: inject<string>("webhookReceiver"),
                TEST_UNTRUSTED_SMARTHOST: inject<string>("untrustedSmarthost"),
              },
              // A second Worker calling Postern over real service bindings (test/worker/rpc.test.ts).
              // The Worker under test runs as the pool's runner, "vitest-plugin-runner-<project>".
              serviceBindings: { CLIENT_APP: "client-app" },
              workers: [
                {
                  name: "client-app",
                  modules: true,
                  scriptPath: path.resolve("test/worker/client-app/index.js"),
                  compatibilityDate: "2026-10-01",
                  serviceBindings: {
                    POSTERN: {
                      name: "vitest-plugin-runner-workers",
                      entrypoint: "PosternService",
                      props: { account: "rpc-app@example.com" },
                    },
                    POSTERN_UNKNOWN: {
                      name: "vitest-plugin-runner-workers",
                      entrypoint: "PosternService",
                      props: { account: "nobody@example.com" },
                    },
                    POSTERN_UNCONFIGURED: {
                      name: "vitest-plugin-runner-workers",
                      entrypoint: "PosternService",
                    },
                  },
                },
              ],
            },
          })),
        ],
        test: {
          name: "workers",
          include: ["test/worker/**/*.test.ts"],
          globalSetup: [
            "./test/smarthost/global-setup.ts",
            "./test/dovecot/global-setup.ts",
            "./test/webhook-receiver/global-setup.ts",
            "./test/smarthost/untrusted-global-setup.ts",
          ],
          setupFiles: ["./test/worker/apply-migrations.ts"],
          fileParallelism: false,
          testTimeout: 30_000,
          hookTimeout: 30_000,
        },
      },
    ],
  },
});
