// SASL figures: full exchanges per second for each mechanism through POST /v1/auth/sasl, and
// HTTP Basic verifications per second with and without the verification cache
// (postern_verification_cache_time), against a running gateway. Bounded in count and time.
import { testSaslAuth } from "../src/cli/testsaslauthd.ts";
import type { RunningGateway } from "../test/gateway/start-gateway.ts";

const LOGIN = "sasl-bench@example.com";
const PASSWORD = "sasl bench password";
const MECHANISMS = ["PLAIN", "LOGIN", "CRAM-MD5", "DIGEST-MD5", "SCRAM-SHA-1", "SCRAM-SHA-256"];
const LIMIT_MS = 30_000;

const round = (n: number) => Number(n.toFixed(1));
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? 0;

/** Runs `task` `total` times with `concurrency` workers; returns completions per second. */
async function rate(
  total: number,
  concurrency: number,
  task: () => Promise<boolean>,
): Promise<{ perSecond: number; failures: number }> {
  let issued = 0;
  let done = 0;
  let failures = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (issued < total && performance.now() - started < LIMIT_MS) {
        issued++;
        if (await task()) done++;
        else failures++;
      }
    }),
  );
  return { perSecond: done / ((performance.now() - started) / 1000), failures };
}

export async function saslBench(
  gateway: RunningGateway,
  repetitions: number,
  exchanges: number,
  log: (line: string) => void,
) {
  await gateway.admin("POST", "/accounts", { login: LOGIN, password: PASSWORD, shared_secret: true });
  const concurrency = 8;
  const mechanisms: Record<string, unknown> = {};
  for (const mechanism of MECHANISMS) {
    const runs = [];
    for (let r = 0; r < repetitions; r++) {
      const result = await rate(exchanges, concurrency, async () => {
        const outcome = await testSaslAuth({
          baseUrl: gateway.url,
          user: LOGIN,
          password: PASSWORD,
          mechanism,
          service: "smtp",
          hostname: "postern.localdomain",
        });
        return outcome.ok;
      });
      runs.push({ per_second: round(result.perSecond), failures: result.failures });
      log(`sasl ${mechanism} run ${r + 1}: ${JSON.stringify(runs.at(-1))}`);
    }
    mechanisms[mechanism] = { exchanges_per_second: round(median(runs.map((r) => r.per_second))), runs };
  }

  // HTTP Basic: GET of a message id that does not exist authenticates, then answers 404. Once
  // with the default 4096 PBKDF2 iterations, once with workerd's maximum of 100,000.
  const STRONG = "sasl-bench-100k@example.com";
  await gateway.admin("POST", "/accounts", { login: STRONG, password: PASSWORD, iterations: 100_000 });
  const basicAs = (login: string) => async () => {
    const authorization = `Basic ${Buffer.from(`${login}:${PASSWORD}`).toString("base64")}`;
    const res = await fetch(`${gateway.url}/v1/messages/01ARZ3NDEKTSV4RRFFQ69G5FAV`, {
      headers: { authorization },
    });
    await res.arrayBuffer();
    return res.status === 404;
  };
  const basic = basicAs(LOGIN);
  const strong = basicAs(STRONG);
  const health = async () => {
    const res = await fetch(`${gateway.url}/healthz`);
    await res.arrayBuffer();
    return res.ok;
  };
  const measure = async (name: string, task: () => Promise<boolean>) => {
    const runs = [];
    for (let r = 0; r < repetitions; r++) {
      const result = await rate(exchanges * 2, concurrency, task);
      runs.push(round(result.perSecond));
      log(`${name} run ${r + 1}: ${runs.at(-1)}/s (${result.failures} failures)`);
    }
    return { per_second: round(median(runs)), runs };
  };
  const baseline = await measure("no authentication (GET /healthz)", health);
  const cached = await measure("basic 4096, cache on", basic);
  const strongCached = await measure("basic 100000, cache on", strong);
  await gateway.admin("PUT", "/settings/postern_verification_cache_time", { value: "0" });
  const uncached = await measure("basic 4096, cache off", basic);
  const strongUncached = await measure("basic 100000, cache off", strong);
  await gateway.admin("DELETE", "/settings/postern_verification_cache_time");

  return {
    concurrency,
    note: "full exchanges through POST /v1/auth/sasl (each step is an HTTP request); PBKDF2 at 4096 iterations",
    mechanisms,
    basic: {
      no_auth_baseline: baseline,
      iterations_4096: { cache_on: cached, cache_off: uncached },
      iterations_100000: { cache_on: strongCached, cache_off: strongUncached },
    },
  };
}
