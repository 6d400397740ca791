// RFC 4648 base64 (§4) and base64url (§5) over bytes with the Web APIs atob/btoa, which work on
// "binary strings" (one char per byte).

const CHUNK = 0x8000; // keeps String.fromCharCode's argument list well under engine limits

export function bytesToBase64(bytes: Uint8Array): string {
  let binary = "";
  for (let i = 0; i < bytes.length; i += CHUNK) {
    binary += String.fromCharCode(...bytes.subarray(i, i + CHUNK));
  }
  return btoa(binary);
}

/** Throws on characters outside the alphabet. Whitespace is ignored, padding optional (atob). */
export function base64ToBytes(base64: string): Uint8Array {
  const binary = atob(base64);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

export function bytesToBase64Url(bytes: Uint8Array): string {
  return bytesToBase64(bytes).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

export function base64UrlToBytes(base64url: string): Uint8Array {
  if (!/^[A-Za-z0-9_-]*$/.test(base64url)) throw new SyntaxError("not base64url");
  return base64ToBytes(base64url.replace(/-/g, "+").replace(/_/g, "/"));
}
