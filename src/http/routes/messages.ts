// The submission API: POST /v1/messages (JSON or raw message/rfc822), POST /v1/messages/batch (up
// to 100 JSON messages, each answered on its own) and GET /v1/messages/{id}. Both POSTs honour an
// Idempotency-Key.
import { Hono } from "hono";
import { authenticateRequest, authRequired, challenges } from "../authenticate.ts";
import { renderMessage } from "../message-view.ts";
import { ProblemError } from "../problem.ts";
import { readLimited } from "../read-body.ts";
import type { AppEnv } from "../services.ts";
import { httpAnswerOf, toResponse } from "../submission/answer.ts";
import { batchAnswer, readBatch } from "../submission/batch.ts";
import type { SubmitContext } from "../submission/decide.ts";
import {
  idempotencyScope,
  readIdempotencyKey,
  requestHash,
  withIdempotency,
} from "../submission/idempotency.ts";
import { isOwner } from "../submission/owner.ts";
import { jsonLimit, type Prepared, parseJsonBytes, prepareJson, prepareRaw } from "../submission/prepare.ts";
import { submitMessages } from "../submission/submit.ts";
import { isConfidential } from "../transport.ts";
import { describeMessageRoutes } from "./messages-openapi.ts";

export const messageRoutes = new Hono<AppEnv>();

messageRoutes.post("/", describeMessageRoutes.submit, async (c) => {
  const { ctx, headers } = await submitContext(c.req.raw, c);
  const url = new URL(c.req.url);
  const limit = ctx.settings.int("message_size_limit");
  const type = mediaType(c.req.header("content-type"));
  if (type !== "application/json" && type !== "message/rfc822") {
    throw unsupported("Send application/json or message/rfc822");
  }
  const bytes =
    type === "application/json"
      ? await readLimited(c.req.raw, jsonLimit(limit), limit)
      : await readLimited(c.req.raw, limit);
  const key = readIdempotencyKey(c.req.raw.headers);
  const request =
    key === null
      ? null
      : {
          scope: idempotencyScope(ctx.sasl, ctx.client),
          key,
          hash: await requestHash(["POST /v1/messages", type, url.search], bytes),
        };
  const answer = await withIdempotency(ctx.services.submissions.idempotency, request, (held) => {
    let item: Prepared | ProblemError;
    try {
      item =
        type === "application/json"
          ? prepareJson(parseJsonBytes(bytes), ctx.settings, limit)
          : prepareRaw(bytes, url, limit);
    } catch (error) {
      if (!(error instanceof ProblemError)) throw error;
      item = error;
    }
    return submitMessages(ctx, [item], held, ([outcome]) => httpAnswerOf(outcome!));
  });
  return toResponse(answer, headers);
});

messageRoutes.post("/batch", describeMessageRoutes.batch, async (c) => {
  const { ctx, headers } = await submitContext(c.req.raw, c);
  if (mediaType(c.req.header("content-type")) !== "application/json") {
    throw unsupported("Send a JSON array of messages (application/json)");
  }
  const { bytes, messages } = await readBatch(c.req.raw, ctx.settings);
  const key = readIdempotencyKey(c.req.raw.headers);
  const request =
    key === null
      ? null
      : {
          scope: idempotencyScope(ctx.sasl, ctx.client),
          key,
          hash: await requestHash(["POST /v1/messages/batch", "application/json"], bytes),
        };
  const limit = ctx.settings.int("message_size_limit");
  const answer = await withIdempotency(ctx.services.submissions.idempotency, request, (held) => {
    const items = messages.map((json) => {
      try {
        return prepareJson(json, ctx.settings, limit);
      } catch (error) {
        if (error instanceof ProblemError) return error;
        throw error;
      }
    });
    return submitMessages(ctx, items, held, batchAnswer);
  });
  return toResponse(answer, headers);
});

messageRoutes.get("/:id", describeMessageRoutes.status, async (c) => {
  const services = c.get("services");
  const settings = c.get("requestSettings");
  const { identity: sasl, headers } = await authenticateRequest(
    c.req.raw,
    c.get("client"),
    services,
    settings,
  );
  if (!sasl) throw authRequired(challenges(settings, isConfidential(new URL(c.req.url))));
  const view = await services.messages.view(c.req.param("id"));
  // Someone else's message is answered exactly like a missing one.
  if (!view || !isOwner(view.message, sasl)) {
    throw new ProblemError({ slug: "not-found", title: "Not found", status: 404, detail: "No such message" });
  }
  return c.json(renderMessage(view), 200, headers);
});

async function submitContext(
  request: Request,
  c: { get: <K extends keyof AppEnv["Variables"]>(key: K) => AppEnv["Variables"][K] },
): Promise<{ ctx: SubmitContext; headers: Record<string, string> }> {
  const services = c.get("services");
  const settings = c.get("requestSettings");
  const client = c.get("client");
  const { identity, headers } = await authenticateRequest(request, client, services, settings);
  const tls = isConfidential(new URL(request.url));
  return {
    ctx: {
      services,
      settings,
      client,
      sasl: identity,
      challenge: () => challenges(settings, tls),
      proto: "HTTP",
    },
    headers,
  };
}

const mediaType = (header: string | undefined) => (header ?? "").split(";")[0]!.trim().toLowerCase();

function unsupported(detail: string): ProblemError {
  return new ProblemError({
    slug: "unsupported-media-type",
    title: "Unsupported media type",
    status: 415,
    detail,
  });
}
