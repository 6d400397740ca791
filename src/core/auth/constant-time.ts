// Comparison of secrets (keys, digests, MACs) whose running time does not depend on where the
// inputs differ. Different lengths still walk the longer input, so only the lengths can be inferred.

export function timingSafeEqual(a: Uint8Array, b: Uint8Array): boolean {
  const length = Math.max(a.length, b.length);
  // XOR of two different lengths is never 0, so a length mismatch alone makes the result false.
  let difference = a.length ^ b.length;
  for (let i = 0; i < length; i++) difference |= (a[i] ?? 0) ^ (b[i] ?? 0);
  return difference === 0;
}
