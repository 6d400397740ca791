// Control client for the test webhook receiver (server.ts); runs inside workerd: fetch only.

export interface ReceivedHook {
  name: string;
  headers: Record<string, string>;
  body: string;
  at: number;
}

export function webhookReceiver(base: string) {
  if (!base) throw new Error("no webhook receiver: is test/webhook-receiver/global-setup.ts a globalSetup?");
  return {
    url: (name: string) => `${base}/hook/${name}`,
    async script(name: string, statuses: number[], afterwards = 200): Promise<void> {
      await fetch(`${base}/_script/${name}`, {
        method: "PUT",
        body: JSON.stringify({ statuses, afterwards }),
      });
    },
    async requests(name: string): Promise<ReceivedHook[]> {
      return (await fetch(`${base}/_requests/${name}`)).json() as Promise<ReceivedHook[]>;
    },
    /** Polls until `name` has received at least `count` requests (or fails after `timeoutMs`). */
    async waitFor(name: string, count: number, timeoutMs = 15_000): Promise<ReceivedHook[]> {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const got = await this.requests(name);
        if (got.length >= count) return got;
        if (Date.now() > deadline) throw new Error(`${name}: ${got.length} of ${count} webhook requests`);
        await new Promise((r) => setTimeout(r, 100));
      }
    },
  };
}
