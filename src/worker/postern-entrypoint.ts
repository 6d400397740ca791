// The RPC face of Postern for other Workers. In the caller's wrangler.jsonc:
//   "services": [{ "binding": "POSTERN", "service": "postern", "entrypoint": "PosternService",
//                  "props": { "account": "app@example.com" } }]
// then `await env.POSTERN.send({ from, to, subject, text })` answers like POST /v1/messages.
import { WorkerEntrypoint } from "cloudflare:workers";
import type { SubmissionAnswer } from "../http/submission/answer.ts";
import {
  type BatchAnswer,
  type SendOptions,
  ServiceApi,
  type ServiceBindingProps,
  type StatusAnswer,
} from "../http/submission/service-api.ts";
import type { Env } from "./env.ts";
import { workerServices } from "./services.ts";

export class PosternService extends WorkerEntrypoint<Env, ServiceBindingProps> {
  #api(): ServiceApi {
    return new ServiceApi(workerServices(this.env, "postern/rpc"), this.ctx.props);
  }

  /** One message of the POST /v1/messages JSON shape. */
  send(message: unknown, options?: SendOptions): Promise<SubmissionAnswer> {
    return this.#api().send(message, options);
  }

  /** Up to 100 messages, each answered on its own. */
  sendBatch(messages: unknown[], options?: SendOptions): Promise<BatchAnswer> {
    return this.#api().sendBatch(messages, options);
  }

  /** Per-recipient status of a message this account sent. */
  status(id: string): Promise<StatusAnswer> {
    return this.#api().status(id);
  }
}
