// The authorization step shared by mechanisms that carry an authzid (PLAIN, DIGEST-MD5,
// EXTERNAL): an empty authzid means the authcid itself; any other identity is a proxy request
// that ctx.mayActAs must grant. Called only after authentication succeeded, so a client without
// the password learns nothing about who may act as whom.
import { askBackend } from "./ask-backend.ts";
import type { SaslServerContext, SaslStatus } from "./mechanism.ts";

export async function authorizeIdentity(
  ctx: SaslServerContext,
  authcid: string,
  requested: string,
): Promise<SaslStatus> {
  if (requested === "") return { kind: "done", identity: { authcid, authzid: authcid } };
  const authzid = ctx.canonicalLogin(requested);
  if (authzid === null) return { kind: "fail", reason: "unusable authorization identity", login: authcid };
  if (authzid === authcid) return { kind: "done", identity: { authcid, authzid } };
  const allowed = await askBackend("authorization lookup", authcid, () => ctx.mayActAs(authcid, authzid));
  if (!allowed.ok) return allowed.status;
  if (!allowed.value) return { kind: "fail", reason: `not authorized to act as ${authzid}`, login: authcid };
  return { kind: "done", identity: { authcid, authzid } };
}
