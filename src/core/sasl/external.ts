// EXTERNAL (RFC 4422 appendix A): the identity comes from the transport (a verified TLS client
// certificate, ctx.externalIdentity); the client's one message is the authzid it wants, empty
// for the certificate's own identity. Offered only when the transport has an identity (the
// `external` property); Postfix's default filter `!external` hides it altogether.
import { authorizeIdentity } from "./authorize-identity.ts";
import { decodeUtf8 } from "./decode-utf8.ts";
import {
  type ClientCredentials,
  type ClientMechanism,
  type MechanismSpec,
  mechanismProperties,
  type SaslServerContext,
  type SaslStatus,
} from "./mechanism.ts";

const PROPERTIES = mechanismProperties({ external: true });

/** The authzid is a login: PLAIN's 255-octet field limit applies (RFC 4616 §2). */
const AUTHZID_LIMIT = 255;
const encoder = new TextEncoder();

async function authorize(ctx: SaslServerContext, message: Uint8Array): Promise<SaslStatus> {
  const identity = ctx.externalIdentity;
  if (identity === null) return { kind: "fail", reason: "no client certificate" };
  const authcid = ctx.canonicalLogin(identity);
  if (authcid === null) return { kind: "fail", reason: "unusable certificate identity", login: identity };
  if (message.length > AUTHZID_LIMIT) {
    return { kind: "malformed", reason: "authzid longer than 255 octets", login: authcid };
  }
  const authzid = decodeUtf8(message);
  if (authzid === null) return { kind: "malformed", reason: "authzid is not UTF-8", login: authcid };
  if (authzid.includes("\0")) return { kind: "malformed", reason: "NUL in authzid", login: authcid };
  return authorizeIdentity(ctx, authcid, authzid);
}

function client(credentials: ClientCredentials): ClientMechanism {
  // Empty: act as the certificate's own identity.
  const requested =
    credentials.authzid && credentials.authzid !== credentials.authcid ? credentials.authzid : "";
  const authzid = encoder.encode(requested);
  let answered = false;
  return {
    async start() {
      return authzid;
    },
    async step(challenge) {
      // Answers once, when the initial response was not sent.
      if (challenge.length > 0 || answered) return { kind: "fail", reason: "unexpected EXTERNAL challenge" };
      answered = true;
      return { kind: "respond", response: authzid };
    },
    async finish() {
      return { kind: "done", verified: false };
    },
  };
}

export const EXTERNAL: MechanismSpec = {
  name: "EXTERNAL",
  properties: PROPERTIES,
  server: {
    async start(ctx, initial) {
      // Refuse before asking anything when there is no certificate to go on.
      if (ctx.externalIdentity === null) return { status: { kind: "fail", reason: "no client certificate" } };
      if (initial === null) return { status: { kind: "more", challenge: new Uint8Array() }, state: {} };
      return { status: await authorize(ctx, initial) };
    },
    async step(ctx, _state, response) {
      return { status: await authorize(ctx, response) };
    },
  },
  client,
};
