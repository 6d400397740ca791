// message/rfc822 submissions are relayed byte for byte; this only checks that they can be, with
// one repair: bare LF line ends become CRLF (RFC 5322 §2.3 allows CR and LF only together, and a
// lone LF is the raw material of SMTP smuggling). A bare CR or a NUL is refused instead: there is
// no faithful repair. Enhanced status codes (RFC 3463):
//   5.3.4  larger than the limit ("Message too big for system", §3.4), as Postfix
//          says it: "552 5.3.4 Message size exceeds fixed limit"
//   5.6.0  not a well-formed RFC 5322 message: bare CR, NUL, a line over 998 octets (§2.1.1),
//          no header section. X.6.0 ("Other or undefined media error", §3.7) rather than
//          X.6.3 ("Conversion required but not supported"): the message is malformed, not
//          merely too wide for the path.

export type RawMessageResult =
  | { ok: true; bytes: Uint8Array; messageId: string | null; eightBit: boolean }
  | { ok: false; reason: string; enhanced: "5.3.4" | "5.6.0" };

const CR = 0x0d;
const LF = 0x0a;
const LINE_LIMIT = 998;

export function prepareRawMessage(bytes: Uint8Array, limits: { maxSize: number }): RawMessageResult {
  const tooBig = { ok: false, reason: "Message size exceeds fixed limit", enhanced: "5.3.4" } as const;
  if (bytes.length > limits.maxSize) return tooBig;

  let bareLf = 0;
  let eightBit = false;
  let lineLength = 0;
  let line = 1;
  for (let i = 0; i < bytes.length; i++) {
    const byte = bytes[i]!;
    if (byte === CR) {
      if (bytes[i + 1] !== LF) return malformed(`message contains bare CR (line ${line})`);
    } else if (byte === LF) {
      if (bytes[i - 1] !== CR) bareLf += 1;
      lineLength = 0;
      line += 1;
    } else {
      if (byte === 0) return malformed(`message contains NUL (line ${line})`);
      if (byte >= 0x80) eightBit = true;
      lineLength += 1;
      if (lineLength > LINE_LIMIT)
        return malformed(`message line ${line} is longer than ${LINE_LIMIT} octets`);
    }
  }
  if (bytes.length + bareLf > limits.maxSize) return tooBig;

  const out = bareLf === 0 ? bytes : withCrlf(bytes, bareLf);
  const header = readHeader(out);
  if (!header.ok) return malformed(header.reason);
  return { ok: true, bytes: out, messageId: header.messageId, eightBit };
}

function malformed(reason: string): RawMessageResult {
  return { ok: false, reason, enhanced: "5.6.0" };
}

function withCrlf(bytes: Uint8Array, bareLf: number): Uint8Array {
  const out = new Uint8Array(bytes.length + bareLf);
  let j = 0;
  for (let i = 0; i < bytes.length; i++) {
    const byte = bytes[i]!;
    if (byte === LF && bytes[i - 1] !== CR) out[j++] = CR;
    out[j++] = byte;
  }
  return out;
}

const FIELD_NAME_BYTE = (byte: number) => byte >= 0x21 && byte <= 0x7e && byte !== 0x3a;
const WSP = (byte: number | undefined) => byte === 0x20 || byte === 0x09;

type HeaderResult = { ok: true; messageId: string | null } | { ok: false; reason: string };

/**
 * RFC 5322 §2.2 / §3.6.8: fields are `name ":" body`, continued on lines that start with WSP,
 * up to an empty line or the end of the message (a message may have no body). Also accepts the
 * obsolete WSP before the colon (§4.5.8), which old software still writes. Input is CRLF-only.
 */
function readHeader(bytes: Uint8Array): HeaderResult {
  let messageId: string | null = null;
  let fields = 0;
  let collecting: number[] | null = null; // value bytes of a Message-ID field being read
  let start = 0;
  let line = 1;
  while (start < bytes.length) {
    let end = bytes.indexOf(LF, start);
    const next = end < 0 ? bytes.length : end + 1;
    end = end < 0 ? bytes.length : end - 1; // the CR before LF
    if (end === start) break; // the empty line that ends the header section
    if (WSP(bytes[start])) {
      if (fields === 0)
        return { ok: false, reason: "message starts with a continuation line, not a header field" };
      collecting?.push(...bytes.subarray(start, end));
    } else {
      let i = start;
      while (i < end && FIELD_NAME_BYTE(bytes[i]!)) i++;
      const nameEnd = i;
      while (i < end && WSP(bytes[i])) i++;
      if (nameEnd === start || bytes[i] !== 0x3a) {
        return { ok: false, reason: `header line ${line} is not a header field (name: value)` };
      }
      fields += 1;
      const name = String.fromCharCode(...bytes.subarray(start, nameEnd)).toLowerCase();
      if (collecting) messageId ??= extractMessageId(collecting);
      collecting = name === "message-id" && messageId === null ? [...bytes.subarray(i + 1, end)] : null;
    }
    start = next;
    line += 1;
  }
  if (collecting) messageId ??= extractMessageId(collecting);
  if (fields === 0) return { ok: false, reason: "message has no header section" };
  return { ok: true, messageId };
}

/** The first `<...>` of the (unfolded) Message-ID value, for logs and tracking; null if none. */
function extractMessageId(value: number[]): string | null {
  const text = new TextDecoder().decode(new Uint8Array(value));
  return /<[^<>\s]+>/.exec(text)?.[0] ?? null;
}
