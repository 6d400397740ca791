// Drives GNU SASL's command-line client (`gsasl`, Debian package gsasl) in its stdin/stdout mode
// against a server-side step function. With pipes, gsasl writes the mechanism name and then each
// client response (base64) to stdout, its prompts and verdict to stderr, and reads the server's
// data (base64, one line each) from stdin.
import { spawn } from "node:child_process";
import { createInterface } from "node:readline";

export type ServerStep = (
  response: string | null,
) => Promise<
  | { kind: "continue"; challenge: string }
  | { kind: "done"; final: string | null }
  | { kind: "failed"; detail: string }
>;

export interface GsaslResult {
  /** The server's verdict. */
  server: "authenticated" | "failed";
  /** gsasl's own verdict ("Client authentication finished"). */
  clientFinished: boolean;
  /** gsasl verified the server (mutual authentication). */
  serverTrusted: boolean;
  exitCode: number | null;
  transcript: string[];
}

export async function runGsasl(args: string[], step: ServerStep, timeoutMs = 15_000): Promise<GsaslResult> {
  const child = spawn("gsasl", ["--client", "--no-starttls", "--no-cb", ...args], {
    stdio: ["pipe", "pipe", "pipe"],
  });
  const transcript: string[] = [];
  let server: GsaslResult["server"] | null = null;
  let clientFinished = false;
  let serverTrusted = false;
  let seenMechanism = false;
  let first = true;
  let chain = Promise.resolve();
  const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
  const send = (line: string) => {
    transcript.push(`server -> gsasl: ${line}`);
    child.stdin.write(`${line}\n`);
  };

  createInterface({ input: child.stderr }).on("line", (line) => {
    transcript.push(`gsasl (stderr): ${line}`);
    if (line.startsWith("Client authentication finished")) {
      clientFinished = true;
      serverTrusted = line.includes("server trusted");
      child.stdin.end(); // no application data follows
    }
  });
  createInterface({ input: child.stdout }).on("line", (line) => {
    transcript.push(`gsasl: ${line}`);
    if (!seenMechanism) {
      seenMechanism = true; // the first line names the mechanism
      return;
    }
    chain = chain.then(async () => {
      // After success, gsasl may answer the server's final data with an empty response (as over
      // SMTP); the exchange is over, so it gets an empty line back.
      if (server === "authenticated") return send("");
      if (server !== null) return;
      const result = await step(first && line === "" ? null : line);
      first = false;
      if (result.kind === "continue") send(result.challenge);
      else if (result.kind === "done") {
        server = "authenticated";
        send(result.final ?? "");
      } else {
        server = "failed";
        transcript.push(`server: ${result.detail}`);
        child.stdin.end();
      }
    });
  });
  const exitCode = await new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  clearTimeout(timer);
  await chain;
  return { server: server ?? "failed", clientFinished, serverTrusted, exitCode, transcript };
}
