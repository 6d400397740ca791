import type { z } from "zod";
import { ProblemError } from "../problem.ts";

/** Parses and validates a small JSON admin request body. */
export async function parseJson<T extends z.ZodType>(request: Request, schema: T): Promise<z.infer<T>> {
  let json: unknown;
  try {
    json = await request.json();
  } catch {
    throw new ProblemError({
      slug: "malformed-request",
      title: "Malformed request",
      status: 400,
      detail: "Expected a JSON body",
    });
  }
  const result = schema.safeParse(json);
  if (!result.success) {
    throw new ProblemError({
      slug: "invalid-request",
      title: "Invalid request",
      status: 422,
      detail: result.error.issues.map((i) => `${i.path.join(".") || "body"}: ${i.message}`).join("; "),
    });
  }
  return result.data;
}
