// Global setup of the "workers" project: one test smarthost process for the whole run. Tests get
// its ports line through `inject("smarthost")`, which vitest.config.ts binds as env.TEST_SMARTHOST.
import path from "node:path";
import type { TestProject } from "vitest/node";
import { makeTestCertificates } from "./certificates.ts";
import { startSmarthost } from "./spawn.ts";

declare module "vitest" {
  export interface ProvidedContext {
    smarthost: string;
  }
}

export default async function setup({ provide }: TestProject): Promise<() => Promise<void>> {
  // vitest.config.ts makes the certificates (workerd must trust the CA before miniflare loads)
  // and leaves their dir here; make our own only if run under some other config.
  const dir = process.env.POSTERN_TEST_CERT_DIR ?? path.resolve(".wrangler/test-certs");
  const certificates = makeTestCertificates(dir);
  const smarthost = await startSmarthost({
    SMARTHOST_CERT: certificates.certFile,
    SMARTHOST_KEY: certificates.keyFile,
  });
  provide("smarthost", smarthost.json);
  return () => smarthost.stop();
}
