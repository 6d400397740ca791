// Message bodies on disk: byte-exact, atomic and durable puts, safe key-to-path mapping.
import { randomBytes } from "node:crypto";
import {
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  utimesSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { BodyKeyError, DiskBodyStore } from "../../src/node/disk-body-store.ts";

const scratch = mkdtempSync(path.join(tmpdir(), "postern-bodies-"));
let n = 0;
const freshRoot = () => path.join(scratch, `store-${++n}`);

afterAll(() => rmSync(scratch, { recursive: true, force: true }));

async function readAll(stream: ReadableStream<Uint8Array>): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  for await (const chunk of stream) chunks.push(chunk);
  return new Uint8Array(Buffer.concat(chunks));
}

describe("DiskBodyStore", () => {
  it("gives back exactly the bytes put, including CR, LF, NUL and 8-bit octets", async () => {
    const store = await DiskBodyStore.open(freshRoot());
    const bytes = new Uint8Array([0, 13, 10, 46, 13, 10, 255, 128, ...randomBytes(200_000)]);
    await store.put("bodies/01ABC", bytes);
    const stream = await store.get("bodies/01ABC");
    expect(stream).not.toBeNull();
    expect(await readAll(stream!)).toEqual(bytes);
    expect(readFileSync(path.join(store.root, "bodies", "01ABC"))).toEqual(Buffer.from(bytes));
  });

  it("put() replaces a body whole and leaves no temporary file behind", async () => {
    const store = await DiskBodyStore.open(freshRoot());
    await store.put("bodies/x", new TextEncoder().encode("first version, longer"));
    await store.put("bodies/x", new TextEncoder().encode("second"));
    expect(new TextDecoder().decode(await readAll((await store.get("bodies/x"))!))).toBe("second");
    expect(readdirSync(path.join(store.root, ".tmp"))).toEqual([]);
  });

  it("handles concurrent puts of different keys", async () => {
    const store = await DiskBodyStore.open(freshRoot());
    const bodies = Array.from({ length: 40 }, (_, i) => randomBytes(1_000 + i * 997));
    await Promise.all(bodies.map((b, i) => store.put(`bodies/m${i}`, b)));
    for (const [i, b] of bodies.entries()) {
      expect(Buffer.from(await readAll((await store.get(`bodies/m${i}`))!))).toEqual(b);
    }
    expect(readdirSync(path.join(store.root, "bodies"))).toHaveLength(40);
  });

  it("get() of a missing key is null; delete() is idempotent", async () => {
    const store = await DiskBodyStore.open(freshRoot());
    expect(await store.get("bodies/none")).toBeNull();
    await store.put("bodies/gone", new Uint8Array([1, 2, 3]));
    await store.delete("bodies/gone");
    await store.delete("bodies/gone");
    await store.delete("bodies/never-was");
    expect(await store.get("bodies/gone")).toBeNull();
  });

  it("a body fetched but never read holds no file open; one deleted before reading errors the stream", async () => {
    const store = await DiskBodyStore.open(freshRoot());
    await store.put("bodies/lazy", new Uint8Array([1, 2, 3]));
    const stream = await store.get("bodies/lazy");
    await store.delete("bodies/lazy");
    await expect(readAll(stream!)).rejects.toThrow(/ENOENT/);
  });

  it("an empty body is an empty stream", async () => {
    const store = await DiskBodyStore.open(freshRoot());
    await store.put("bodies/empty", new Uint8Array(0));
    expect(await readAll((await store.get("bodies/empty"))!)).toEqual(new Uint8Array(0));
  });

  it.each([
    ["a parent reference", "../outside"],
    ["a nested parent reference", "bodies/../../outside"],
    ["a current-directory segment", "bodies/./x"],
    ["an absolute path", "/etc/passwd"],
    ["a hidden name (the temporary folder)", ".tmp/x"],
    ["a backslash", "bodies\\..\\x"],
    ["an empty segment", "bodies//x"],
    ["an empty key", ""],
    ["a NUL byte", "bodies/x\u0000y"],
    ["a trailing slash", "bodies/"],
  ])("refuses a key with %s", async (_name, key) => {
    const root = freshRoot();
    const store = await DiskBodyStore.open(root);
    await expect(store.put(key, new Uint8Array([1]))).rejects.toBeInstanceOf(BodyKeyError);
    await expect(store.get(key)).rejects.toBeInstanceOf(BodyKeyError);
    await expect(store.delete(key)).rejects.toBeInstanceOf(BodyKeyError);
    expect(existsSync(path.join(scratch, "outside"))).toBe(false);
  });

  it("clears stale temporary files at open and keeps recent ones", async () => {
    const root = freshRoot();
    await DiskBodyStore.open(root);
    const stale = path.join(root, ".tmp", "dead.part");
    const recent = path.join(root, ".tmp", "busy.part");
    writeFileSync(stale, "half a body");
    writeFileSync(recent, "being written");
    const twoHoursAgo = new Date(Date.now() - 2 * 3600_000);
    utimesSync(stale, twoHoursAgo, twoHoursAgo);
    await DiskBodyStore.open(root);
    expect(existsSync(stale)).toBe(false);
    expect(existsSync(recent)).toBe(true);
  });
});
