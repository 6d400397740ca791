// Sending from another Worker over a service binding (env.POSTERN.send(...)): the same pipeline as
// POST /v1/messages, as the account the binding's configuration names (props.account). Only whoever
// deploys the calling Worker can set props, so the binding is the credential. Every outcome is a
// value of the HTTP answer's shape; nothing is thrown across the binding.
import { AcceptError } from "../../core/submission/accept.ts";
import { renderMessage } from "../message-view.ts";
import { ProblemError, problemBody } from "../problem.ts";
import type { Services } from "../services.ts";
import { type ProblemBody, refused, type SubmissionAnswer } from "./answer.ts";
import { batchAnswer, MAX_BATCH } from "./batch.ts";
import type { SubmitContext } from "./decide.ts";
import { checkKey, idempotencyScope, requestHash, withIdempotency } from "./idempotency.ts";
import { isOwner } from "./owner.ts";
import { type Prepared, prepareJson } from "./prepare.ts";
import { submitMessages } from "./submit.ts";

/** What a service binding's props carry. */
export interface ServiceBindingProps {
  /** The login of the Postern account the calling Worker sends as. */
  account?: unknown;
}

export interface SendOptions {
  /** As the Idempotency-Key header: the same key and message within 24 h return the first answer. */
  idempotencyKey?: string;
}

export type Failure = { ok: false; status: number; body: ProblemBody };
export type BatchAnswer = { ok: true; status: 200; body: { results: SubmissionAnswer[] } } | Failure;
export type StatusAnswer = { ok: true; status: 200; body: ReturnType<typeof renderMessage> } | Failure;

export class ServiceApi {
  readonly #services: Services;
  readonly #props: ServiceBindingProps;

  constructor(services: Services, props: ServiceBindingProps | undefined) {
    this.#services = services;
    this.#props = props ?? {};
  }

  send(message: unknown, options: SendOptions = {}): Promise<SubmissionAnswer> {
    return this.#guard(async (ctx) => {
      const answer = await this.#idempotent(ctx, "RPC send", message, options, (held) =>
        submitMessages(ctx, [this.#prepare(ctx, message)], held, ([outcome]) => ({
          status: outcome!.answer.status,
          headers: {},
          body: outcome!.answer.body,
        })),
      );
      return answer as SubmissionAnswer;
    });
  }

  sendBatch(messages: unknown[], options: SendOptions = {}): Promise<BatchAnswer> {
    return this.#guard(async (ctx) => {
      if (!Array.isArray(messages) || messages.length === 0 || messages.length > MAX_BATCH) {
        throw new ProblemError({
          slug: "invalid-batch",
          title: "Invalid batch",
          status: 422,
          detail: `A batch is an array of 1 to ${MAX_BATCH} messages`,
          smtpStatus: "5.5.2",
        });
      }
      return (await this.#idempotent(ctx, "RPC sendBatch", messages, options, (held) =>
        submitMessages(
          ctx,
          messages.map((m) => this.#prepare(ctx, m)),
          held,
          batchAnswer,
        ),
      )) as BatchAnswer;
    });
  }

  status(id: string): Promise<StatusAnswer> {
    return this.#guard(async (ctx) => {
      const view = await this.#services.messages.view(String(id));
      if (!view || !ctx.sasl || !isOwner(view.message, ctx.sasl)) {
        throw new ProblemError({
          slug: "not-found",
          title: "Not found",
          status: 404,
          detail: "No such message",
        });
      }
      return { ok: true, status: 200, body: renderMessage(view) };
    });
  }

  #prepare(ctx: SubmitContext, message: unknown): Prepared | ProblemError {
    try {
      return prepareJson(message, ctx.settings, ctx.settings.int("message_size_limit"));
    } catch (error) {
      if (error instanceof ProblemError) return error;
      throw error;
    }
  }

  async #idempotent(
    ctx: SubmitContext,
    operation: string,
    input: unknown,
    options: SendOptions,
    run: Parameters<typeof withIdempotency>[2],
  ): Promise<{ ok: boolean; status: number; body: unknown }> {
    const key = options.idempotencyKey === undefined ? null : checkKey(String(options.idempotencyKey));
    const request =
      key === null
        ? null
        : {
            scope: idempotencyScope(ctx.sasl, ctx.client),
            key,
            hash: await requestHash([operation], new TextEncoder().encode(JSON.stringify(input))),
          };
    const answer = await withIdempotency(this.#services.submissions.idempotency, request, run);
    return { ok: answer.status < 300, status: answer.status, body: answer.body };
  }

  /** Resolves the binding's account, runs `body`, and turns every failure into a problem value. */
  async #guard<T>(body: (ctx: SubmitContext) => Promise<T>): Promise<T | Failure> {
    try {
      return await body(await this.#context());
    } catch (error) {
      if (error instanceof ProblemError) return refused(error).answer as Failure;
      const transient = error instanceof AcceptError || (error as { transient?: boolean }).transient === true;
      this.#services.logger.error(`error: service binding: ${(error as Error).message}`);
      return {
        ok: false,
        status: transient ? 503 : 500,
        body: problemBody(
          transient
            ? {
                slug: "temporarily-unavailable",
                title: "Temporarily unavailable",
                status: 503,
                detail: "A back end is temporarily unavailable; nothing was accepted. Try again.",
                smtpStatus: "4.3.0",
              }
            : { slug: "internal-error", title: "Internal error", status: 500, smtpStatus: "4.3.0" },
        ) as ProblemBody,
      };
    }
  }

  async #context(): Promise<SubmitContext> {
    const services = this.#services;
    const login = this.#props.account;
    if (typeof login !== "string" || login === "") {
      throw new ProblemError({
        slug: "service-binding-not-configured",
        title: "Service binding not configured",
        status: 500,
        detail: 'The service binding names no account: set "props": { "account": "<login>" } on it',
        smtpStatus: "4.3.5",
      });
    }
    const account = await services.accounts.findByLogin(login);
    if (!account || account.disabled) {
      services.logger.warn(
        `warning: service binding: unknown or disabled account, sasl_username=${login.slice(0, 100)}`,
      );
      throw new ProblemError({
        slug: "authentication-failed",
        title: "Authentication failed",
        status: 403,
        detail: "The account named by the service binding does not exist or is disabled",
        smtpStatus: "5.7.8",
      });
    }
    return {
      services,
      settings: await services.loadSettings(),
      client: { address: "unknown", name: "service-binding" },
      sasl: { accountId: account.id, username: account.login, method: "RPC" },
      challenge: "",
      proto: "RPC",
    };
  }
}
