import { describe, expect, it } from "vitest";
import { timingSafeEqual } from "./constant-time.ts";

const bytes = (...values: number[]) => new Uint8Array(values);

describe("timingSafeEqual", () => {
  const cases = [
    { name: "equal", a: bytes(1, 2, 3), b: bytes(1, 2, 3), want: true },
    { name: "both empty", a: bytes(), b: bytes(), want: true },
    { name: "first byte differs", a: bytes(0, 2, 3), b: bytes(1, 2, 3), want: false },
    { name: "last byte differs", a: bytes(1, 2, 3), b: bytes(1, 2, 4), want: false },
    { name: "single bit differs", a: bytes(0x80), b: bytes(0x00), want: false },
    { name: "prefix (shorter a)", a: bytes(1, 2), b: bytes(1, 2, 3), want: false },
    { name: "prefix (shorter b)", a: bytes(1, 2, 3), b: bytes(1, 2), want: false },
    { name: "zero padding is not equality", a: bytes(1, 2, 0), b: bytes(1, 2), want: false },
    { name: "empty vs zero byte", a: bytes(), b: bytes(0), want: false },
  ];
  for (const { name, a, b, want } of cases) {
    it(name, () => expect(timingSafeEqual(a, b)).toBe(want));
  }
});
