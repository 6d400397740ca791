// A live, greeted (and maybe encrypted and authenticated) connection to the smarthost that carries
// any number of messages, one at a time, RSET between them.
import type { Capabilities } from "./capabilities.ts";
import type { Conversation } from "./conversation.ts";
import type { RecipientOutcome, RelayMessage } from "./relay-message.ts";
import type { RelayTimeouts } from "./relay-options.ts";
import { runTransaction } from "./transaction.ts";

export interface RelaySession {
  /** `host[address]`, as Postfix logs the relay. */
  readonly peer: string;
  readonly capabilities: Capabilities;
  readonly secure: boolean;
  /** The SASL mechanism used, or null when the session is not authenticated. */
  readonly authMechanism: string | null;
  /** False once the connection failed or was closed: send() then defers everything at once. */
  readonly alive: boolean;
  /** One outcome per recipient, in order. Never rejects for SMTP or network trouble. */
  send(message: RelayMessage): Promise<RecipientOutcome[]>;
  /** QUIT (best effort) and close. */
  close(): Promise<void>;
}

/** How long close() may take to write QUIT. */
const QUIT_WAIT = 5_000;

export class SmtpRelaySession implements RelaySession {
  readonly capabilities: Capabilities;
  readonly authMechanism: string | null;
  readonly #conversation: Conversation;
  readonly #timeouts: RelayTimeouts;
  readonly #lmtp: boolean;
  #resetFirst = false;
  #busy = false;
  readonly #dummyMailAuth: boolean;

  constructor(
    conversation: Conversation,
    capabilities: Capabilities,
    authMechanism: string | null,
    timeouts: RelayTimeouts,
    lmtp = false,
    options: { dummyMailAuth?: boolean } = {},
  ) {
    this.#lmtp = lmtp;
    this.#conversation = conversation;
    this.capabilities = capabilities;
    this.authMechanism = authMechanism;
    this.#timeouts = timeouts;
    this.#dummyMailAuth = options.dummyMailAuth === true && authMechanism !== null;
  }

  get peer(): string {
    return this.#conversation.peer;
  }

  get secure(): boolean {
    return this.#conversation.secure;
  }

  get alive(): boolean {
    return this.#conversation.broken === null;
  }

  async send(message: RelayMessage): Promise<RecipientOutcome[]> {
    if (this.#busy) throw new Error("RelaySession.send: the previous message is still being sent");
    if (message.recipients.length === 0) return [];
    const broken = this.#conversation.broken;
    if (broken) {
      return message.recipients.map((recipient) => ({
        recipient,
        status: "deferred",
        reply: broken.reason,
        dsn: broken.dsn,
      }));
    }
    this.#busy = true;
    try {
      const result = await runTransaction(
        {
          conversation: this.#conversation,
          capabilities: this.capabilities,
          timeouts: this.#timeouts,
          reset: this.#resetFirst,
          lmtp: this.#lmtp,
          dummyMailAuth: this.#dummyMailAuth,
        },
        message,
      );
      this.#resetFirst = result.resetBeforeNext;
      return result.outcomes;
    } catch (error) {
      // A bug, not a network event: the wire state is unknown, so the connection cannot be reused.
      this.#conversation.abandon({ reason: `internal error talking to ${this.peer}`, dsn: "4.3.0" });
      throw error;
    } finally {
      this.#busy = false;
    }
  }

  async close(): Promise<void> {
    await quitAndClose(this.#conversation, this.#timeouts.command);
  }
}

/**
 * QUIT if the connection still works, then close it without waiting for the 221, as Postfix does
 * by default (smtp_skip_quit_response = yes): nothing the server says then changes anything, and a
 * server that never answers cannot hold the delivery agent.
 */
export async function quitAndClose(conversation: Conversation, commandTimeoutMs: number): Promise<void> {
  if (!conversation.broken) await conversation.command("QUIT", "quit", Math.min(commandTimeoutMs, QUIT_WAIT));
  await conversation.close();
}
