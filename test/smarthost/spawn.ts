// Starts server.ts as a child process and waits for its ports line. Shared by the vitest global
// setup, the Node-side smarthost tests and anything else (benchmarks) that needs a smarthost.
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { fileURLToPath } from "node:url";
import type { SmarthostPorts } from "./client.ts";

export interface RunningSmarthost {
  /** The JSON line as printed: what `provide("smarthost", ...)` hands to tests. */
  json: string;
  ports: SmarthostPorts;
  child: ChildProcess;
  stop(): Promise<void>;
}

const SERVER = fileURLToPath(new URL("./server.ts", import.meta.url));

export async function startSmarthost(
  env: Record<string, string | undefined> = {},
  timeoutMs = 10_000,
): Promise<RunningSmarthost> {
  // process.execPath: the Node 22 that runs us (vitest, npm scripts); it strips the types itself.
  // stdin stays a pipe to us, so the child exits when we do, even if we are killed outright.
  const child = spawn(process.execPath, [SERVER], {
    env: { ...process.env, ...env },
    stdio: ["pipe", "pipe", "pipe"],
  });
  let stderr = "";
  child.stderr?.setEncoding("utf8").on("data", (chunk: string) => {
    // Only the tail matters for diagnostics; SMARTHOST_DEBUG can make it long.
    stderr = (stderr + chunk).slice(-65_536);
  });

  const json = await new Promise<string>((resolve, reject) => {
    let stdout = "";
    const fail = (why: string) => {
      clearTimeout(timer);
      child.kill("SIGKILL");
      reject(new Error(`test smarthost ${why}\n--- stderr ---\n${stderr}\n--- stdout ---\n${stdout}`));
    };
    const timer = setTimeout(() => fail(`printed no ports within ${timeoutMs} ms`), timeoutMs);
    child.once("error", (error) => fail(`could not start: ${error.message}`));
    child.once("exit", (code, signal) => fail(`exited early (code ${code}, signal ${signal})`));
    const onData = (chunk: string) => {
      stdout += chunk;
      const newline = stdout.indexOf("\n");
      if (newline < 0) return;
      clearTimeout(timer);
      child.removeAllListeners("exit");
      child.removeAllListeners("error");
      child.stdout?.off("data", onData);
      resolve(stdout.slice(0, newline).trim());
    };
    child.stdout?.setEncoding("utf8").on("data", onData);
  });
  const ports = JSON.parse(json) as SmarthostPorts;
  // Keep draining stdout so a chatty child can never block on a full pipe.
  child.stdout?.resume();
  let stopping = false;
  child.on("error", (error) => console.error("test smarthost:", error));
  child.once("exit", (code, signal) => {
    if (!stopping) console.error(`test smarthost died (code ${code}, signal ${signal})\n${stderr}`);
  });

  return {
    json,
    ports,
    child,
    async stop() {
      stopping = true;
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = once(child, "exit");
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), 3_000);
      await exited;
      clearTimeout(timer);
    },
  };
}
