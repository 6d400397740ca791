// Control client for the test smarthost (server.ts). Imported by tests inside workerd, so it uses
// fetch and web APIs only: no node: imports here.

export type SmarthostKind = "starttls" | "implicit" | "plain" | "open";

export interface SmarthostPorts {
  starttls: number;
  implicit: number;
  plain: number;
  open: number;
  control: number;
}

/** One message the smarthost accepted (answered 250 to DATA). */
export interface Received {
  /** The queue ID from `250 2.0.0 Ok: queued as <ID>`. */
  id: string;
  server: SmarthostKind;
  /** smtp-server's session id: messages that share it came over one SMTP connection. */
  connection: string;
  /** MAIL FROM address, "" for the null sender. */
  mailFrom: string;
  /** Recipients accepted at RCPT time (rejected ones are not listed). */
  rcptTo: string[];
  authUser: string | null;
  /** Whether the session ran over TLS (STARTTLS or implicit). */
  secure: boolean;
  /** The DATA bytes after dot-unstuffing, ending with the CRLF before the final dot. */
  bodyBase64: string;
  size: number;
  /** ISO 8601. */
  receivedAt: string;
}

export interface Smarthost {
  /** Always 127.0.0.1: the servers listen on IPv4 only, and the certificate names 127.0.0.1 and localhost. */
  host: string;
  ports: SmarthostPorts;
  /** Accepted messages, oldest first; with `rcpt`, only those with that recipient (case-insensitive). */
  messages(rcpt?: string): Promise<Received[]>;
  /** Polls until at least `count` messages match (default 1), or fails after `timeoutMs` (default 10 s). */
  waitForMessages(rcpt?: string, count?: number, timeoutMs?: number): Promise<Received[]>;
  clear(): Promise<void>;
  /** Closes every SMTP listener: new connections are refused until `up()`, which reopens the same ports. */
  down(): Promise<void>;
  up(): Promise<void>;
}

/** Users the smarthost accepts unless SMARTHOST_USERS says otherwise (the global setup keeps the default). */
export const SMARTHOST_USER = "relay";
export const SMARTHOST_PASSWORD = "relay-secret";

/** `json` is the line server.ts prints, as handed to tests by `inject("smarthost")` / `env.TEST_SMARTHOST`. */
export function smarthost(json: string): Smarthost {
  if (!json) throw new Error("no smarthost: is test/smarthost/global-setup.ts the project's globalSetup?");
  const ports = JSON.parse(json) as SmarthostPorts;
  const base = `http://127.0.0.1:${ports.control}`;

  const call = async (method: string, path: string): Promise<unknown> => {
    const response = await fetch(base + path, { method });
    const text = await response.text();
    if (!response.ok) throw new Error(`smarthost ${method} ${path}: ${response.status} ${text}`);
    return JSON.parse(text);
  };
  const messages = async (rcpt?: string) =>
    (await call(
      "GET",
      rcpt === undefined ? "/messages" : `/messages?rcpt=${encodeURIComponent(rcpt)}`,
    )) as Received[];

  return {
    host: "127.0.0.1",
    ports,
    messages,
    async waitForMessages(rcpt, count = 1, timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const found = await messages(rcpt);
        if (found.length >= count) return found;
        if (Date.now() > deadline) {
          throw new Error(
            `smarthost: ${found.length} of ${count} messages for ${rcpt ?? "anyone"} after ${timeoutMs} ms`,
          );
        }
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    },
    async clear() {
      await call("DELETE", "/messages");
    },
    async down() {
      await call("POST", "/down");
    },
    async up() {
      await call("POST", "/up");
    },
  };
}

/** The exact DATA bytes of a received message. */
export function bodyBytes(message: Received): Uint8Array {
  return Uint8Array.from(atob(message.bodyBase64), (char) => char.charCodeAt(0));
}

/** The DATA bytes as UTF-8 text (headers and MIME as sent, not decoded). */
export function bodyText(message: Received): string {
  return new TextDecoder().decode(bodyBytes(message));
}
