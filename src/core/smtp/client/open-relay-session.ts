// Opening a session with the smarthost, as Postfix's smtp(8) does: connect, greeting, EHLO (HELO
// when EHLO is refused), STARTTLS per smtp_tls_security_level and EHLO again (RFC 3207 §4.2), then
// AUTH when credentials are configured and the server offers it.
import { type Connect, ConnectError, type Socket, type TlsMode } from "../../net/socket.ts";
import { printable } from "../../printable.ts";
import { type Reply, renderReply } from "../reply.ts";
import { withTimeout } from "../with-timeout.ts";
import { authenticate } from "./authenticate.ts";
import { type Capabilities, HELO_CAPABILITIES, parseCapabilities } from "./capabilities.ts";
import { Conversation } from "./conversation.ts";
import {
  type RelayOptions,
  type RelayTimeouts,
  resolveTimeouts,
  type TlsSecurityLevel,
} from "./relay-options.ts";
import { quitAndClose, type RelaySession, SmtpRelaySession } from "./relay-session.ts";

/** Why no session could be had: every recipient of the batch is deferred or bounced with this. */
export interface SessionFailure {
  status: "deferred" | "bounced";
  reason: string;
  /** The server refused the credential with a 5xx (smtp_sasl_auth_cache_name remembers it). */
  authRejected?: boolean;
}

export type OpenRelaySessionResult =
  | { ok: true; session: RelaySession }
  | { ok: false; outcome: SessionFailure };

type Step<T> = { ok: true; value: T } | { ok: false; outcome: SessionFailure; plaintextRetry?: boolean };

const HELO_NAME = /^[\x21-\x7e]+$/;

const fail = (status: SessionFailure["status"], reason: string) =>
  ({ ok: false, outcome: { status, reason } }) as const;
// A refusal is permanent only when the server says so with a 5xx, as smtp_site_fail() decides.
const refused = (reply: Reply, reason: string) => fail(reply.code >= 500 ? "bounced" : "deferred", reason);

export async function openRelaySession(
  connect: Connect,
  options: RelayOptions,
): Promise<OpenRelaySessionResult> {
  if (!HELO_NAME.test(options.heloName)) {
    return fail("deferred", `bad smtp_helo_name: "${printable(options.heloName)}"`);
  }
  const timeouts = resolveTimeouts(options.timeouts);
  const tls: TlsMode = options.wrapperMode ? "on" : options.tlsLevel === "none" ? "off" : "starttls";
  const connected = await connectWithin(connect, options, tls, timeouts.connect);
  if (!connected.ok) return fail("deferred", connected.reason);

  const conversation = new Conversation(connected.socket, `${options.host}[${options.host}]`);
  const ready = await handshake(conversation, options, timeouts);
  if (!ready.ok) {
    await quitAndClose(conversation, timeouts.command);
    // smtp_tls_security_level=may: a failed handshake is retried once without TLS, as Postfix does.
    if (ready.plaintextRetry) return openRelaySession(connect, { ...options, tlsLevel: "none" });
    return { ok: false, outcome: ready.outcome };
  }
  const { capabilities, mechanism } = ready.value;
  const lmtp = options.protocol === "lmtp";
  return {
    ok: true,
    session: new SmtpRelaySession(conversation, capabilities, mechanism, timeouts, lmtp, {
      dummyMailAuth: options.dummyMailAuth ?? false,
    }),
  };
}

async function handshake(
  conv: Conversation,
  options: RelayOptions,
  timeouts: RelayTimeouts,
): Promise<Step<{ capabilities: Capabilities; mechanism: string | null }>> {
  const greeting = await conv.reply("greeting", timeouts.greeting);
  if (!greeting.ok) return fail("deferred", greeting.failure.reason);
  if (greeting.reply.code < 200 || greeting.reply.code >= 300) {
    return refused(greeting.reply, `host ${conv.peer} refused to talk to me: ${renderReply(greeting.reply)}`);
  }

  const lmtp = options.protocol === "lmtp";
  let hello = await sayHello(conv, options.heloName, timeouts.greeting, lmtp);
  if (!hello.ok) return hello;
  if (!options.wrapperMode && options.tlsLevel !== "none") {
    const required = options.tlsLevel !== "may";
    if (hello.value.startTls) {
      const starttls = await conv.exchange("STARTTLS", "starttls", timeouts.command);
      if (!starttls.ok) return fail("deferred", starttls.failure.reason);
      if (starttls.reply.code === 220) {
        const failed = await conv.startTls(timeouts.command);
        if (failed) return { ...fail("deferred", failed.reason), plaintextRetry: !required };
        hello = await sayHello(conv, options.heloName, timeouts.greeting, lmtp);
        if (!hello.ok) return hello;
      } else if (required) {
        const said = renderReply(starttls.reply);
        return refused(
          starttls.reply,
          `TLS is required, but host ${conv.peer} refused to start TLS: ${said}`,
        );
      }
      // may: go on in plaintext, as Postfix does when STARTTLS is refused.
    } else if (required) {
      return fail("deferred", `TLS is required, but was not offered by host ${conv.peer}`);
    }
  }

  const capabilities = hello.value;
  // Credentials but no AUTH offered: Postfix sends the mail unauthenticated and lets the server judge.
  if (!options.auth || capabilities.auth.length === 0)
    return { ok: true, value: { capabilities, mechanism: null } };
  const auth = await authenticate(conv, capabilities.auth, options.auth, {
    ...(options.sasl ? { sasl: options.sasl } : {}),
    softBounce: options.authSoftBounce ?? true,
    timeoutMs: timeouts.command,
    // verify/secure: the handshake succeeded only with a trusted certificate for the host.
    verified: verifies(options.tlsLevel),
    host: options.host,
    port: options.port,
  });
  if (!auth.ok) {
    return { ok: false, outcome: { status: auth.status, reason: auth.reason, authRejected: auth.rejected } };
  }
  return { ok: true, value: { capabilities, mechanism: auth.mechanism } };
}

/** EHLO, or HELO when EHLO gets a 5xx (an SMTP-only server); LHLO alone for LMTP (RFC 2033 §4.1). */
async function sayHello(
  conv: Conversation,
  heloName: string,
  timeoutMs: number,
  lmtp = false,
): Promise<Step<Capabilities>> {
  if (lmtp) {
    const lhlo = await conv.exchange(`LHLO ${heloName}`, "lhlo", timeoutMs);
    if (!lhlo.ok) return fail("deferred", lhlo.failure.reason);
    if (lhlo.reply.code >= 200 && lhlo.reply.code < 300)
      return { ok: true, value: parseCapabilities(lhlo.reply) };
    return refused(lhlo.reply, conv.said(lhlo.reply, "lhlo"));
  }
  const ehlo = await conv.exchange(`EHLO ${heloName}`, "ehlo", timeoutMs);
  if (!ehlo.ok) return fail("deferred", ehlo.failure.reason);
  if (ehlo.reply.code >= 200 && ehlo.reply.code < 300)
    return { ok: true, value: parseCapabilities(ehlo.reply) };
  if (ehlo.reply.code < 500) return refused(ehlo.reply, conv.said(ehlo.reply, "ehlo"));
  const helo = await conv.exchange(`HELO ${heloName}`, "helo", timeoutMs);
  if (!helo.ok) return fail("deferred", helo.failure.reason);
  if (helo.reply.code >= 200 && helo.reply.code < 300) return { ok: true, value: HELO_CAPABILITIES };
  return refused(helo.reply, conv.said(helo.reply, "helo"));
}

/** verify and secure check the certificate; for a [host] next hop they check the same name. */
function verifies(level: TlsSecurityLevel): boolean {
  return level === "verify" || level === "secure";
}

type Connected = { ok: true; socket: Socket } | { ok: false; reason: string };

async function connectWithin(
  connect: Connect,
  options: RelayOptions,
  tls: TlsMode,
  timeoutMs: number,
): Promise<Connected> {
  const where = `connect to ${options.host}[${options.host}]:${options.port}`;
  const reason = (error: unknown) =>
    error instanceof ConnectError
      ? error.message
      : `${where}: ${printable(error instanceof Error ? error.message : String(error))}`;
  let pending: Promise<Socket>;
  try {
    pending = connect({
      host: options.host,
      port: options.port,
      tls,
      ...(options.path === undefined ? {} : { path: options.path }),
      verify: verifies(options.tlsLevel),
      ...(options.caFile ? { caFile: options.caFile } : {}),
    });
  } catch (error) {
    return { ok: false, reason: reason(error) };
  }
  try {
    const connected = await withTimeout(pending, timeoutMs);
    if (connected.timedOut) {
      pending.then((late) => late.close()).catch(() => {});
      return { ok: false, reason: `${where}: Connection timed out` };
    }
    return { ok: true, socket: connected.value };
  } catch (error) {
    return { ok: false, reason: reason(error) };
  }
}
