// Reads a request body without ever holding more than `limit` bytes: an oversized upload is cut
// off as soon as it passes the limit instead of being buffered whole.
import { ProblemError } from "./problem.ts";

export function tooLarge(limit: number): ProblemError {
  return new ProblemError({
    slug: "message-too-large",
    title: "Message too large",
    status: 413,
    detail: `Message size exceeds fixed limit of ${limit} bytes (message_size_limit)`,
    smtpStatus: "5.3.4",
    smtpReply: "552 5.3.4 Message size exceeds fixed limit",
  });
}

export async function readLimited(request: Request, limit: number, reported = limit): Promise<Uint8Array> {
  const declared = Number(request.headers.get("content-length") ?? Number.NaN);
  if (Number.isFinite(declared) && declared > limit) throw tooLarge(reported);
  if (!request.body) return new Uint8Array();
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > limit) {
      await reader.cancel().catch(() => {});
      throw tooLarge(reported);
    }
    chunks.push(value);
  }
  const out = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return out;
}
