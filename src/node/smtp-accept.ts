// The SMTP listener's data path: a message streams to the body store as the session reads it (the
// Received: header first), and at its end the body is made durable, the envelope recorded and the
// message queued, through the same accept code as HTTP submissions. Only then does the session
// answer 250; on any failure nothing is queued and the partial body is removed.

import type { BodyStore, Logger } from "../core/ports.ts";
import { printable } from "../core/printable.ts";
import type { AcceptPort, ClientInfo, Envelope, MessageWriter } from "../core/smtp/server/index.ts";
import {
  type AcceptedState,
  type AcceptStore,
  acceptStoredMessage,
  bodyKeyFor,
} from "../core/submission/accept.ts";
import type { Services } from "../http/services.ts";
import { DiskBodyStore } from "./disk-body-store.ts";

/** How much of the message start is kept to find its Message-ID. */
const HEADER_SCAN_LIMIT = 256 * 1024;

export function smtpAcceptPort(
  services: Services,
  /** Where envelopes go: the message store, or a GroupCommitStore over it. */
  store: AcceptStore,
  logger: Logger,
  client: ClientInfo,
  accountOf: (username: string) => string | null,
): AcceptPort {
  const open = async (envelope: Envelope): Promise<MessageWriter> => {
    const state = stateOf(envelope);
    const id = envelope.queueId;
    // A discarded message claims success but keeps only its envelope (as acceptMessage does).
    const bodyKey = state === "discarded" ? null : bodyKeyFor(id);
    const body = bodyKey ? bodyWriter(services.bodies, bodyKey) : null;
    const header = new HeaderScan();
    let eightBit = false;
    return {
      async write(bytes) {
        header.add(bytes);
        eightBit ||= hasEightBit(bytes);
        await body?.write(bytes);
      },
      async finish(final, size) {
        try {
          await body?.commit();
          await acceptStoredMessage(
            {
              id,
              accountId: final.sasl ? accountOf(final.sasl.username) : null,
              saslUsername: final.sasl?.username ?? null,
              saslMethod: final.sasl?.method ?? null,
              clientAddress: client.address,
              mailFrom: final.sender,
              recipients: final.recipients.map((recipient) => recipient.address),
              size,
              bodyKey,
              headerMessageId: messageIdOf(header.bytes()),
              eightBit: final.body === "8BITMIME" || eightBit,
              smtputf8: final.smtputf8,
              state,
              stateReason: final.discard ?? final.hold,
            },
            { store, bodies: services.bodies, queue: services.queue, logger, events: services.events },
          );
        } catch (error) {
          await body?.abort();
          logger.warn(`warning: ${id}: ${describe(error)}`);
          return {
            ok: false,
            reply: { code: 451, enhanced: "4.3.0", text: "Error: queue file write error" },
          };
        }
        const from = `from=<${printable(final.sender)}>, size=${size}`;
        logger.info(`${id}: ${from}, nrcpt=${final.recipients.length} (queue ${queueName(state)})`);
        return { ok: true, queueId: id };
      },
      async abort() {
        await body?.abort();
      },
    };
  };
  return {
    open,
    async accept(envelope, message) {
      const writer = await open(envelope);
      await writer.write(message);
      return writer.finish(envelope, message.byteLength);
    },
  };
}

interface StreamedBody {
  write(bytes: Uint8Array): Promise<void>;
  commit(): Promise<void>;
  abort(): Promise<void>;
}

/** Straight to disk with the Node body store; any other store gets the whole body at commit(). */
function bodyWriter(bodies: BodyStore, key: string): StreamedBody {
  if (bodies instanceof DiskBodyStore) return bodies.create(key);
  let parts: Uint8Array[] = [];
  return {
    async write(bytes) {
      parts.push(bytes);
    },
    async commit() {
      await bodies.put(key, joined(parts));
      parts = [];
    },
    async abort() {
      parts = [];
    },
  };
}

function stateOf(envelope: Envelope): AcceptedState {
  return envelope.discard !== null ? "discarded" : envelope.hold !== null ? "held" : "queued";
}

const queueName = (state: string) => (state === "queued" ? "active" : state === "held" ? "hold" : "discard");

/** Keeps the start of the message up to the blank line that ends its header (or the limit). */
class HeaderScan {
  #bytes = new Uint8Array(4096);
  #length = 0;
  #done = false;

  add(piece: Uint8Array): void {
    if (this.#done) return;
    const take = piece.subarray(0, HEADER_SCAN_LIMIT - this.#length);
    if (this.#length + take.length > this.#bytes.length) {
      const grown = new Uint8Array(Math.min(HEADER_SCAN_LIMIT, (this.#length + take.length) * 2));
      grown.set(this.#bytes.subarray(0, this.#length));
      this.#bytes = grown;
    }
    const from = Math.max(0, this.#length - 3);
    this.#bytes.set(take, this.#length);
    this.#length += take.length;
    const end = findHeaderEnd(this.#bytes.subarray(0, this.#length), from);
    if (end >= 0) this.#length = end;
    this.#done = end >= 0 || this.#length >= HEADER_SCAN_LIMIT;
  }

  bytes(): Uint8Array {
    return this.#bytes.subarray(0, this.#length);
  }
}

/** Where CRLF CRLF begins, searching from `from`; -1 when not there. */
function findHeaderEnd(bytes: Uint8Array, from: number): number {
  for (let i = from; i + 3 < bytes.length; i++) {
    if (bytes[i] === 13 && bytes[i + 1] === 10 && bytes[i + 2] === 13 && bytes[i + 3] === 10) return i;
  }
  return -1;
}

/** The Message-ID header's value, for the message views; null without one. */
export function messageIdOf(header: Uint8Array): string | null {
  const text = new TextDecoder("latin1").decode(header);
  const match = /^message-id:[ \t]*((?:[^\r\n]|\r\n[ \t])*)/im.exec(text);
  const value = match?.[1]?.replace(/\r\n[ \t]+/g, " ").trim();
  return value ? printable(value, 998) : null;
}

function hasEightBit(bytes: Uint8Array): boolean {
  for (let i = 0; i < bytes.length; i++) if (bytes[i]! >= 0x80) return true;
  return false;
}

function joined(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

function describe(error: unknown): string {
  return printable(error instanceof Error ? error.message : String(error));
}
