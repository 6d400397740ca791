// The SCRAM message grammar of RFC 5802 §7 (after the GS2 header): comma-separated `x=value`
// attributes in a fixed order, saslname escaping, printable nonces, base64 and positive numbers.
// Parsers return values, never throw: whatever a peer sends is either a message or a reason.

import { base64ToBytes, bytesToBase64 } from "../encoding/base64.ts";
import { decodeUtf8 } from "./decode-utf8.ts";

/**
 * Longest SCRAM message accepted, in bytes. Real ones are under 300 bytes; the bound also keeps the
 * client-first-bare and server-first that travel in the server state (the HTTP continuation) small.
 */
export const SCRAM_MESSAGE_LIMIT = 4096;

export type Parsed<T> = { ok: true; value: T } | { ok: false; reason: string };

export interface Attribute {
  name: string;
  value: string;
}

const encoder = new TextEncoder();

/** The message as UTF-8 text (RFC 5802 §7: messages are UTF-8), within the size limit. */
export function decodeMessage(bytes: Uint8Array): Parsed<string> {
  if (bytes.length > SCRAM_MESSAGE_LIMIT) {
    return { ok: false, reason: `message longer than ${SCRAM_MESSAGE_LIMIT} bytes` };
  }
  const text = decodeUtf8(bytes);
  return text === null ? { ok: false, reason: "message is not UTF-8" } : { ok: true, value: text };
}

export function encodeMessage(text: string): Uint8Array {
  return encoder.encode(text);
}

const ATTRIBUTE = /^([A-Za-z])=([^\x00]*)$/s; // attr-val = ALPHA "=" value; value-char excludes NUL and ","

/**
 * Splits `a=1,b=2` into attributes; fails when a part is not ALPHA "=" value, or when a name repeats
 * (no extension defines repetition, and a second p= or r= must not hide behind the first).
 */
export function parseAttributes(text: string): Parsed<Attribute[]> {
  const attributes: Attribute[] = [];
  for (const part of text.split(",")) {
    const match = ATTRIBUTE.exec(part);
    if (!match) return { ok: false, reason: "attribute is not x=value" };
    if (attributes.some((a) => a.name === match[1])) return { ok: false, reason: "repeated attribute" };
    attributes.push({ name: match[1]!, value: match[2]! });
  }
  return { ok: true, value: attributes };
}

/** saslname (RFC 5802 §5.1): ',' and '=' are sent as =2C and =3D. */
export function encodeSaslName(name: string): string {
  return name.replace(/=/g, "=3D").replace(/,/g, "=2C");
}

/** Undoes encodeSaslName; any other '=' sequence, or an empty name, is malformed. */
export function decodeSaslName(text: string): Parsed<string> {
  if (text.length === 0) return { ok: false, reason: "empty name" };
  if (/=(?!2C|3D)/.test(text)) return { ok: false, reason: "bad '=' escape in name" };
  return { ok: true, value: text.replace(/=2C/g, ",").replace(/=3D/g, "=") };
}

const PRINTABLE = /^[\x21-\x2b\x2d-\x7e]+$/; // RFC 5802 §7 printable: ASCII except ','
export function isNonce(text: string): boolean {
  return PRINTABLE.test(text);
}

/** RFC 5802 printable characters (ASCII 0x21-0x7E except ','), the characters of a nonce. */
export const NONCE_ALPHABET = Array.from({ length: 0x7e - 0x21 + 1 }, (_, i) => String.fromCharCode(0x21 + i))
  .filter((c) => c !== ",")
  .join("");

/**
 * A nonce of `length` printable characters, one per random byte. The modulo bias leaves each
 * character at least log2(256/3) = 6.4 bits of entropy: 24 characters carry over 150 bits.
 * Tests reproduce an RFC nonce by returning the characters' indices in NONCE_ALPHABET.
 */
export function makeNonce(random: (bytes: number) => Uint8Array, length: number): string {
  let nonce = "";
  for (const byte of random(length).subarray(0, length))
    nonce += NONCE_ALPHABET[byte % NONCE_ALPHABET.length];
  return nonce;
}

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/**
 * Strict, canonical RFC 4648 base64 with padding. atob alone also takes whitespace, missing padding
 * and non-zero pad bits, so one proof or c= would have several spellings.
 */
export function decodeBase64(text: string): Parsed<Uint8Array> {
  if (!BASE64.test(text)) return { ok: false, reason: "not base64" };
  const bytes = base64ToBytes(text);
  if (bytesToBase64(bytes) !== text) return { ok: false, reason: "not canonical base64" };
  return { ok: true, value: bytes };
}

export const encodeBase64 = bytesToBase64;

/** posit-number: no sign, no leading zero; bounded so it stays an exact integer. */
export function parsePositiveNumber(text: string): Parsed<number> {
  if (!/^[1-9][0-9]{0,9}$/.test(text)) return { ok: false, reason: "not a positive number" };
  return { ok: true, value: Number(text) };
}

export interface ClientFirstBare {
  username: string;
  nonce: string;
  /** A reserved `m=` (mandatory extension) was present: RFC 5802 §5.1 says fail. */
  mandatoryExtension: boolean;
}

/** client-first-message-bare = [reserved-mext ","] username "," nonce ["," extensions] */
export function parseClientFirstBare(text: string): Parsed<ClientFirstBare> {
  const attributes = parseAttributes(text);
  if (!attributes.ok) return attributes;
  const list = attributes.value;
  const mandatoryExtension = list[0]?.name === "m";
  const [user, nonce] = mandatoryExtension ? list.slice(1) : list;
  if (user?.name !== "n") return { ok: false, reason: "missing n= username" };
  if (nonce?.name !== "r") return { ok: false, reason: "missing r= nonce" };
  const username = decodeSaslName(user.value);
  if (!username.ok) return { ok: false, reason: `username: ${username.reason}` };
  if (!isNonce(nonce.value)) return { ok: false, reason: "client nonce is not printable ASCII" };
  return { ok: true, value: { username: username.value, nonce: nonce.value, mandatoryExtension } };
}

export function formatClientFirstBare(username: string, nonce: string): string {
  return `n=${encodeSaslName(username)},r=${nonce}`;
}

export interface ServerFirst {
  nonce: string;
  salt: Uint8Array;
  iterations: number;
  mandatoryExtension: boolean;
}

/** server-first-message = [reserved-mext ","] nonce "," salt "," iteration-count ["," extensions] */
export function parseServerFirst(text: string): Parsed<ServerFirst> {
  const attributes = parseAttributes(text);
  if (!attributes.ok) return attributes;
  const list = attributes.value;
  const mandatoryExtension = list[0]?.name === "m";
  const [nonce, salt, iterations] = mandatoryExtension ? list.slice(1) : list;
  if (nonce?.name !== "r" || !isNonce(nonce.value)) return { ok: false, reason: "missing or bad r= nonce" };
  if (salt?.name !== "s") return { ok: false, reason: "missing s= salt" };
  if (iterations?.name !== "i") return { ok: false, reason: "missing i= iteration count" };
  const saltBytes = decodeBase64(salt.value);
  if (!saltBytes.ok || saltBytes.value.length === 0) return { ok: false, reason: "salt is not base64" };
  const count = parsePositiveNumber(iterations.value);
  if (!count.ok) return { ok: false, reason: "iteration count is not a positive number" };
  return {
    ok: true,
    value: { nonce: nonce.value, salt: saltBytes.value, iterations: count.value, mandatoryExtension },
  };
}

export function formatServerFirst(nonce: string, salt: Uint8Array, iterations: number): string {
  return `r=${nonce},s=${bytesToBase64(salt)},i=${iterations}`;
}

export interface ClientFinal {
  /** The decoded c= value: GS2 header plus channel binding data. */
  channelBinding: Uint8Array;
  nonce: string;
  proof: Uint8Array;
  /** client-final-message-without-proof, as sent: part of AuthMessage. */
  withoutProof: string;
}

/** client-final-message = channel-binding "," nonce ["," extensions] "," proof */
export function parseClientFinal(text: string): Parsed<ClientFinal> {
  const attributes = parseAttributes(text);
  if (!attributes.ok) return attributes;
  const list = attributes.value;
  const [cb, nonce] = list;
  const proof = list.length >= 3 ? list[list.length - 1] : undefined;
  if (cb?.name !== "c") return { ok: false, reason: "missing c= channel binding" };
  if (nonce?.name !== "r" || !isNonce(nonce.value)) return { ok: false, reason: "missing or bad r= nonce" };
  if (proof?.name !== "p") return { ok: false, reason: "missing p= proof at the end" };
  const cbBytes = decodeBase64(cb.value);
  if (!cbBytes.ok || cbBytes.value.length === 0) return { ok: false, reason: "c= is not base64" };
  const proofBytes = decodeBase64(proof.value);
  if (!proofBytes.ok || proofBytes.value.length === 0) return { ok: false, reason: "p= is not base64" };
  const withoutProof = text.slice(0, text.length - proof.value.length - ",p=".length);
  return {
    ok: true,
    value: { channelBinding: cbBytes.value, nonce: nonce.value, proof: proofBytes.value, withoutProof },
  };
}

export function formatClientFinalWithoutProof(channelBinding: Uint8Array, nonce: string): string {
  return `c=${bytesToBase64(channelBinding)},r=${nonce}`;
}

/** server-final-message = (server-error / verifier) ["," extensions] */
export type ServerFinal = { kind: "verifier"; signature: Uint8Array } | { kind: "error"; error: string };

export function parseServerFinal(text: string): Parsed<ServerFinal> {
  const attributes = parseAttributes(text);
  if (!attributes.ok) return attributes;
  const first = attributes.value[0]!;
  if (first.name === "e") {
    if (first.value.length === 0) return { ok: false, reason: "empty e= error" };
    return { ok: true, value: { kind: "error", error: first.value } };
  }
  if (first.name !== "v") return { ok: false, reason: "missing v= verifier" };
  const signature = decodeBase64(first.value);
  if (!signature.ok || signature.value.length === 0) return { ok: false, reason: "v= is not base64" };
  return { ok: true, value: { kind: "verifier", signature: signature.value } };
}
