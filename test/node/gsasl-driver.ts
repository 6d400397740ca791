// Drives GNU SASL's command-line client (`gsasl`, Debian package gsasl) in its stdin/stdout mode
// against a server-side step function: gsasl prints each client response after
// "Output from client:" and asks for the server's data with "Enter base64 authentication data".
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
  let pendingWrite: string | null = null;
  let expectResponse = false;
  let clientFinished = false;
  let serverTrusted = false;
  let first = true;
  let chain = Promise.resolve();
  const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
  child.stderr.on("data", (chunk) => transcript.push(`stderr: ${String(chunk).trim()}`));

  const lines = createInterface({ input: child.stdout });
  lines.on("line", (line) => {
    transcript.push(`gsasl: ${line}`);
    chain = chain.then(async () => {
      if (line === "Output from client:") {
        expectResponse = true;
        return;
      }
      if (expectResponse) {
        expectResponse = false;
        const result = await step(first && line === "" ? null : line);
        first = false;
        if (result.kind === "continue") pendingWrite = result.challenge;
        else if (result.kind === "done") {
          server = "authenticated";
          pendingWrite = result.final ?? "";
        } else {
          server = "failed";
          transcript.push(`server: ${result.detail}`);
          child.stdin.end();
        }
        return;
      }
      if (line.startsWith("Enter base64 authentication data from server")) {
        child.stdin.write(`${pendingWrite ?? ""}\n`);
        transcript.push(`server -> gsasl: ${pendingWrite ?? ""}`);
        pendingWrite = null;
        return;
      }
      if (line.startsWith("Client authentication finished")) {
        clientFinished = true;
        serverTrusted = line.includes("server trusted");
        return;
      }
      if (line.startsWith("Enter application data")) child.stdin.end();
    });
  });
  const exitCode = await new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  clearTimeout(timer);
  await chain;
  return { server: server ?? "failed", clientFinished, serverTrusted, exitCode, transcript };
}
