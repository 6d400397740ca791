// The content of the message being received. It is opened when DATA or the first BDAT chunk begins,
// with the Received: header written first (Postfix writes it when DATA starts too), then each piece
// goes to the accept port's writer as it arrives, so a large message is never held whole. It ends
// in finish() (250 only once stored and queued) or abort() (nothing queued, nothing left behind).
// A port without open() gets the whole message at the end, collected here.
import { receivedHeader } from "./received-header.ts";
import type { SessionCore, Transaction } from "./session-core.ts";
import type { AcceptPort, AcceptResult, Envelope, MessageWriter } from "./session-ports.ts";

const encoder = new TextEncoder();

export class MessageContent {
  readonly #writer: MessageWriter;
  readonly #core: SessionCore;
  readonly #queueId: string;
  /** Bytes of the message so far, the Received: header included, kept or not. */
  size = 0;
  /** Why the content can no longer be stored (a write failed); the message gets 451 at its end. */
  failure: string | null = null;
  #aborted: Promise<void> | null = null;

  private constructor(core: SessionCore, writer: MessageWriter, queueId: string) {
    this.#core = core;
    this.#writer = writer;
    this.#queueId = queueId;
  }

  /** Opens storage for the transaction's message; null (logged) when that failed. */
  static async open(core: SessionCore, transaction: Transaction): Promise<MessageContent | null> {
    const queueId = transaction.queueId;
    if (!queueId) return null;
    const envelope = envelopeOf(core, transaction, queueId);
    let writer: MessageWriter;
    try {
      const port = core.ports.accept;
      writer = port.open ? await port.open(envelope) : collectingWriter(port);
    } catch (error) {
      core.warn(`warning: ${queueId}: opening the queue file failed: ${describe(error)}`);
      return null;
    }
    const content = new MessageContent(core, writer, queueId);
    await content.write(encoder.encode(receivedHeaderOf(core, envelope)));
    return content;
  }

  /** Appends a piece; after a failure or an abort the bytes are only counted. */
  async write(bytes: Uint8Array): Promise<void> {
    this.size += bytes.length;
    if (bytes.length === 0 || this.failure !== null || this.#aborted) return;
    try {
      await this.#writer.write(bytes);
    } catch (error) {
      this.failure = describe(error);
      this.#core.warn(`warning: ${this.#queueId}: writing the queue file failed: ${this.failure}`);
      await this.abort();
    }
  }

  /** Stores and queues the message; a failure is the port's reply, or a throw. */
  async finish(envelope: Envelope): Promise<AcceptResult> {
    try {
      return await this.#writer.finish(envelope, this.size);
    } catch (error) {
      await this.abort();
      throw error;
    }
  }

  /** Drops what was written; safe to call more than once, and after a failed finish. */
  abort(): Promise<void> {
    this.#aborted ??= this.#writer.abort().catch((error: unknown) => {
      this.#core.warn(`warning: ${this.#queueId}: removing the queue file failed: ${describe(error)}`);
    });
    return this.#aborted;
  }
}

export function envelopeOf(core: SessionCore, transaction: Transaction, queueId: string): Envelope {
  return {
    queueId,
    client: core.client,
    helo: core.helo?.name ?? "",
    protocol: core.receivedProtocol,
    tls: core.tls !== null,
    sasl: core.sasl,
    sender: transaction.sender,
    recipients: transaction.recipients,
    body: transaction.body,
    smtputf8: transaction.smtputf8,
    ret: transaction.ret,
    envid: transaction.envid,
    auth: transaction.auth,
    hold: transaction.hold,
    discard: transaction.discard,
  };
}

function receivedHeaderOf(core: SessionCore, envelope: Envelope): string {
  return receivedHeader({
    helo: core.helo?.name ?? null,
    client: core.client,
    authenticatedSender: core.config.saslAuthenticatedHeader && core.sasl ? core.sasl.username : null,
    hostname: core.config.hostname,
    protocol: envelope.protocol,
    queueId: envelope.queueId,
    recipients: envelope.recipients.map((recipient) => recipient.address),
    date: new Date(core.ports.clock.now()),
  });
}

/** For a port that takes the whole message: the pieces, joined at the end. */
function collectingWriter(port: AcceptPort): MessageWriter {
  let parts: Uint8Array[] = [];
  return {
    async write(bytes) {
      parts.push(bytes);
    },
    finish(envelope) {
      const message = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0));
      let offset = 0;
      for (const part of parts) {
        message.set(part, offset);
        offset += part.length;
      }
      parts = [];
      return port.accept(envelope, message);
    },
    async abort() {
      parts = [];
    },
  };
}

const describe = (error: unknown) => (error instanceof Error ? error.message : String(error));
