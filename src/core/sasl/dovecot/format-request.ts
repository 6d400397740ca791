// The client's lines: the greeting, AUTH, CONT and CANCEL. Everything but base64 and numbers is
// tab-escaped, so nothing a client sent (an IP string, a service name) can end a field or a line.
import { bytesToBase64 } from "../../encoding/base64.ts";
import { PROTOCOL_VERSION } from "./handshake-parser.ts";
import { tabEscape } from "./tab-escape.ts";

/** What Dovecot is told about the client being authenticated (Postfix's AUTH parameters). */
export interface DovecotAuthParams {
  /** The client's initial response; null when it sent none. */
  initial: Uint8Array | null;
  /** Dovecot's service name: passdb/userdb lookups and `protocol smtp {}` blocks see it. */
  service: string;
  localIp?: string;
  remoteIp?: string;
  /** The client connection is TLS (or trusted): Dovecot's disable_plaintext_auth lets PLAIN through. */
  secured: boolean;
  validClientCert?: boolean;
  /** Skip Dovecot's auth penalty (failure delays) for this request. */
  noPenalty?: boolean;
  /** We can take additional data with success on OK (`resp=`) instead of as a last CONT. */
  finalResponseOk?: boolean;
}

export function formatHello(pid: number): string {
  return `VERSION\t${PROTOCOL_VERSION.major}\t${PROTOCOL_VERSION.minor}\nCPID\t${pid}\n`;
}

export function formatAuth(id: number, mechanism: string, params: DovecotAuthParams): string {
  const fields = [`AUTH\t${id}\t${tabEscape(mechanism)}\tservice=${tabEscape(params.service)}`];
  // nologin: we only authenticate, no login process picks the request up (Postfix sends it too).
  fields.push("nologin");
  if (params.finalResponseOk) fields.push("final-resp-ok");
  if (params.secured) fields.push("secured");
  if (params.validClientCert) fields.push("valid-client-cert");
  if (params.noPenalty) fields.push("no-penalty");
  if (params.localIp) fields.push(`lip=${tabEscape(params.localIp)}`);
  if (params.remoteIp) fields.push(`rip=${tabEscape(params.remoteIp)}`);
  // resp must be the last parameter; with protocol 1.2 an empty one is an empty initial response.
  if (params.initial) fields.push(`resp=${bytesToBase64(params.initial)}`);
  return `${fields.join("\t")}\n`;
}

/** An empty response travels as an empty field. */
export function formatCont(id: number, response: Uint8Array): string {
  return `CONT\t${id}\t${bytesToBase64(response)}\n`;
}

export function formatCancel(id: number): string {
  return `CANCEL\t${id}\n`;
}
