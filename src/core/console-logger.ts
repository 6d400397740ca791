import type { Logger } from "./ports.ts";

/** Log lines in Postfix's shape, tagged like syslog's program name. */
export function consoleLogger(program: string): Logger {
  return {
    info: (line) => console.log(`${program}: ${line}`),
    warn: (line) => console.warn(`${program}: ${line}`),
    error: (line) => console.error(`${program}: ${line}`),
  };
}
