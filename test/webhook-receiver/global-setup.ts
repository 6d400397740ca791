// Global setup of the "workers" project: the webhook receiver, handed to tests as
// env.TEST_WEBHOOK_RECEIVER (its base URL) through `inject("webhookReceiver")`.
import type { TestProject } from "vitest/node";
import { startWebhookReceiver } from "./server.ts";

declare module "vitest" {
  export interface ProvidedContext {
    webhookReceiver: string;
  }
}

export default async function setup({ provide }: TestProject): Promise<() => Promise<void>> {
  const receiver = await startWebhookReceiver();
  provide("webhookReceiver", receiver.url);
  return () => receiver.stop();
}
