// A non-delivery report is a message like any other: stored, recorded and queued durably (through
// acceptMessage) with the null sender, so it cannot itself cause another report, and routed as the
// null sender (sender_dependent_relayhost_maps `<>`, else relayhost).
import { newQueueId } from "../ids.ts";
import type { BodyStore, DeliveryQueue, Logger } from "../ports.ts";
import { type AcceptStore, acceptMessage } from "../submission/accept.ts";
import { composeDeliveryStatusNotification, type FailedRecipient } from "./delivery-status-notification.ts";

export interface BounceNoticeDeps {
  store: AcceptStore;
  bodies: BodyStore;
  queue: DeliveryQueue;
  logger: Logger;
}

export interface BouncedMessage {
  id: string;
  accountId: string | null;
  mailFrom: string;
  createdAt: number;
  eightBit: boolean;
  smtputf8: boolean;
  original: Uint8Array;
  /** RFC 3461 RET= (HDRS: return only the headers) and ENVID= of the submission. */
  ret: "FULL" | "HDRS" | null;
  envid: string | null;
}

/** Queues the report; returns its queue id, or null for the null sender (no report). */
export async function queueBounceNotice(
  message: BouncedMessage,
  failed: FailedRecipient[],
  options: { hostname: string; returnLimit: number; now: number },
  deps: BounceNoticeDeps,
): Promise<string | null> {
  if (message.mailFrom === "" || failed.length === 0) return null;
  const id = newQueueId(options.now);
  const bytes = composeDeliveryStatusNotification({
    hostname: options.hostname,
    queueId: message.id,
    sender: message.mailFrom,
    arrivalDate: new Date(message.createdAt),
    now: new Date(options.now),
    recipients: failed,
    original: message.original,
    returnLimit: message.ret === "HDRS" ? 0 : options.returnLimit,
    eightBit: message.eightBit,
    envid: message.envid,
  });
  await acceptMessage(
    {
      id,
      accountId: message.accountId,
      saslUsername: null,
      saslMethod: null,
      clientAddress: "localhost",
      mailFrom: "",
      recipients: [message.mailFrom],
      bytes,
      headerMessageId: null,
      eightBit:
        message.eightBit && message.ret !== "HDRS" && message.original.byteLength <= options.returnLimit,
      smtputf8: message.smtputf8,
      state: "queued",
      stateReason: null,
    },
    { ...deps, now: () => options.now },
  );
  deps.logger.info(`${message.id}: sender non-delivery notification: ${id}`);
  return id;
}
