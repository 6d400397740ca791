import { describe, expect, it } from "vitest";
import { memorySocketPair } from "./memory-socket.ts";

const enc = (text: string) => new TextEncoder().encode(text);
const dec = (bytes: Uint8Array | null) => (bytes ? new TextDecoder().decode(bytes) : null);

describe("memorySocketPair", () => {
  it("delivers each write as one read, in order, both ways", async () => {
    const [a, b] = memorySocketPair();
    await a.write(enc("one"));
    await a.write(enc("two"));
    await b.write(enc("back"));
    expect(dec(await b.read())).toBe("one");
    expect(dec(await b.read())).toBe("two");
    expect(dec(await a.read())).toBe("back");
  });

  it("wakes a pending read", async () => {
    const [a, b] = memorySocketPair();
    const reading = b.read();
    await a.write(enc("x"));
    expect(dec(await reading)).toBe("x");
  });

  it("copies written bytes", async () => {
    const [a, b] = memorySocketPair();
    const buffer = enc("abc");
    await a.write(buffer);
    buffer[0] = 0x7a;
    expect(dec(await b.read())).toBe("abc");
  });

  it("close: the peer drains what was sent, then sees end of stream; its writes fail", async () => {
    const [a, b] = memorySocketPair();
    const pending = a.read();
    await a.write(enc("last"));
    await a.close();
    expect(await pending).toBeNull();
    expect(dec(await b.read())).toBe("last");
    expect(await b.read()).toBeNull();
    await expect(b.write(enc("late"))).rejects.toThrow(/peer closed/);
    await expect(a.write(enc("after"))).rejects.toThrow(/closed/);
  });

  it("abort: reads on both ends reject", async () => {
    const [a, b] = memorySocketPair();
    const pending = b.read();
    a.abort(new Error("reset"));
    await expect(pending).rejects.toThrow("reset");
    await expect(a.read()).rejects.toThrow("reset");
    await expect(b.write(enc("x"))).rejects.toThrow("reset");
  });

  it("startTls: both ends move to a secure pair and unread plaintext is dropped", async () => {
    const [a, b] = memorySocketPair();
    await b.write(enc("220 go ahead\r\n"));
    await b.write(enc("250 injected\r\n"));
    expect(dec(await a.read())).toBe("220 go ahead\r\n");
    const a2 = await a.startTls();
    const b2 = await b.startTls();
    expect([a.secure, b.secure, a2.secure, b2.secure]).toEqual([false, false, true, true]);
    await b2.write(enc("250 real"));
    expect(dec(await a2.read())).toBe("250 real");
    await a2.write(enc("EHLO"));
    expect(dec(await b2.read())).toBe("EHLO");
    await expect(a.read()).rejects.toThrow(/upgraded/);
    await expect(a.write(enc("x"))).rejects.toThrow(/upgraded/);
  });
});
