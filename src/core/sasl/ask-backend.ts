// A credential or authorization lookup that throws (database down, undecryptable secret) is a
// temporary failure, as Postfix answers 454 when its SASL back end is unreachable; it never
// escapes a mechanism as an exception.
import type { SaslStatus } from "./mechanism.ts";

export type BackendAnswer<T> = { ok: true; value: T } | { ok: false; status: SaslStatus & { kind: "temp" } };

export async function askBackend<T>(
  what: string,
  login: string,
  call: () => Promise<T>,
): Promise<BackendAnswer<T>> {
  try {
    return { ok: true, value: await call() };
  } catch {
    return { ok: false, status: { kind: "temp", reason: `${what} unavailable`, login } };
  }
}
