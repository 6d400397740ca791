// vitest globalSetup for the Workers project: a real Dovecot auth service (Debian's dovecot-core)
// for smtpd_sasl_type = dovecot, its inet port handed to the tests as TEST_DOVECOT.
import type { TestProject } from "vitest/node";
import { startDovecot } from "./dovecot-process.ts";

declare module "vitest" {
  export interface ProvidedContext {
    dovecot: string;
  }
}

export default async function setup({ provide }: TestProject): Promise<() => Promise<void>> {
  const dovecot = await startDovecot();
  provide("dovecot", JSON.stringify({ host: dovecot.host, port: dovecot.port }));
  return async () => {
    await dovecot.remove();
  };
}
