// Queue ids: ULIDs (time-ordered, 128 bits, Crockford base32), so ids sort by arrival like
// Postfix's long queue ids and cannot be guessed.
const ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

export function newQueueId(now = Date.now()): string {
  let time = "";
  let t = now;
  for (let i = 0; i < 10; i++) {
    time = ALPHABET[t % 32] + time;
    t = Math.floor(t / 32);
  }
  const random = crypto.getRandomValues(new Uint8Array(16));
  let rest = "";
  for (const byte of random) rest += ALPHABET[byte % 32];
  return time + rest;
}

export function isQueueId(value: string): boolean {
  return /^[0-9A-HJKMNP-TV-Z]{26}$/.test(value);
}
