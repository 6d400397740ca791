// Message bodies as files: the Node runtime's R2. A put() is durable before it resolves (written
// to a temporary file, fsynced, renamed into place, directory fsynced), because accepting a
// message promises the submitter that its body survives a crash or a power cut. create() does the
// same for a body that arrives in pieces (SMTP DATA): the pieces go to the temporary file as they
// come, and commit() makes it durable under its key.
import { randomBytes } from "node:crypto";
import { type FileHandle, mkdir, open, readdir, rename, rm, stat } from "node:fs/promises";
import path from "node:path";
import type { BodyStore } from "../core/ports.ts";

/** Key segments: plain names only, never `.`, `..`, hidden files or separators. */
const SEGMENT = /^[A-Za-z0-9_-][A-Za-z0-9._-]{0,199}$/;
const MAX_DEPTH = 8;
/** Temporary files live here, inside the store, so a rename never crosses file systems. */
const TEMPORARY = ".tmp";
/** A temporary file this old is what a killed process left behind. */
const STALE_TEMPORARY_MS = 60 * 60_000;
const READ_CHUNK_BYTES = 64 * 1024;
/** A streamed body is kept in memory up to this size and written once; beyond it, as it comes. */
const WRITE_BUFFER_BYTES = 128 * 1024;

export class BodyKeyError extends Error {
  readonly code = "ERR_BODY_KEY";
  readonly transient = false;
}

export class DiskBodyStore implements BodyStore {
  readonly #root: string;
  /** Directories known to exist with a durable entry in their parent. */
  readonly #durableDirs = new Set<string>();
  readonly #dirSyncs = new DirSyncs();

  private constructor(root: string) {
    this.#root = root;
  }

  /** Creates the folder if needed and clears temporary files a killed process left behind. */
  static async open(root: string, now = Date.now()): Promise<DiskBodyStore> {
    const store = new DiskBodyStore(path.resolve(root));
    await store.#ensureDir(path.join(store.#root, TEMPORARY));
    await store.#removeStaleTemporaries(now);
    return store;
  }

  get root(): string {
    return this.#root;
  }

  async put(key: string, bytes: Uint8Array): Promise<void> {
    const writer = this.create(key);
    try {
      await writer.write(bytes);
      await writer.commit();
    } catch (error) {
      await writer.abort();
      throw error;
    }
  }

  /** A body written in pieces; nothing is visible under `key` before commit() resolves. */
  create(key: string): BodyWriter {
    return new BodyWriter(this.#root, this.#pathOf(key), {
      ensureDir: (dir) => this.#ensureDir(dir),
      syncDir: (dir) => this.#dirSyncs.sync(dir),
    });
  }

  async get(key: string): Promise<ReadableStream<Uint8Array> | null> {
    const target = this.#pathOf(key);
    try {
      await stat(target);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return null;
      throw error;
    }
    return lazyFileStream(target);
  }

  async delete(key: string): Promise<void> {
    await rm(this.#pathOf(key), { force: true });
  }

  /** The file of a key, refusing anything that could name a path outside the store. */
  #pathOf(key: string): string {
    const segments = key.split("/");
    if (segments.length > MAX_DEPTH || !segments.every((s) => SEGMENT.test(s))) {
      throw new BodyKeyError(`invalid body key: ${JSON.stringify(key.slice(0, 100))}`);
    }
    const resolved = path.resolve(this.#root, ...segments);
    if (!resolved.startsWith(this.#root + path.sep)) {
      throw new BodyKeyError(`body key outside the store: ${JSON.stringify(key.slice(0, 100))}`);
    }
    return resolved;
  }

  /** mkdir -p, with each new directory's entry fsynced into its parent. */
  async #ensureDir(dir: string): Promise<void> {
    if (this.#durableDirs.has(dir)) return;
    const parent = path.dirname(dir);
    if (dir !== this.#root && parent !== dir) await this.#ensureDir(parent);
    else await mkdir(parent, { recursive: true });
    try {
      await mkdir(dir);
      await syncDir(parent);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    }
    this.#durableDirs.add(dir);
  }

  async #removeStaleTemporaries(now: number): Promise<void> {
    const dir = path.join(this.#root, TEMPORARY);
    for (const name of await readdir(dir)) {
      const file = path.join(dir, name);
      const info = await stat(file).catch(() => null);
      if (info && now - info.mtimeMs >= STALE_TEMPORARY_MS) await rm(file, { force: true });
    }
  }
}

interface WriterDirs {
  ensureDir(dir: string): Promise<void>;
  syncDir(dir: string): Promise<void>;
}

/**
 * Directory fsyncs shared by the renames that wait for them: a request joins the fsync queued
 * for that directory, or queues one behind the fsync under way (which may have begun before its
 * rename), so many bodies committed together cost one or two fsyncs, not one each.
 */
class DirSyncs {
  readonly #dirs = new Map<string, { running: Promise<void> | null; queued: Promise<void> | null }>();

  sync(dir: string): Promise<void> {
    let state = this.#dirs.get(dir);
    if (!state) {
      state = { running: null, queued: null };
      this.#dirs.set(dir, state);
    }
    if (state.queued) return state.queued;
    const running = state.running;
    if (!running) return this.#start(dir, state);
    const queued = running
      .catch(() => {})
      .then(() => {
        state.queued = null;
        return this.#start(dir, state);
      });
    state.queued = queued;
    return queued;
  }

  #start(dir: string, state: { running: Promise<void> | null }): Promise<void> {
    const running: Promise<void> = syncDir(dir).finally(() => {
      if (state.running === running) state.running = null;
    });
    state.running = running;
    return running;
  }
}

/**
 * One body being written: small bodies stay in memory and are written in one go at commit(), a
 * large one goes to its temporary file as it arrives, so memory stays flat whatever its size.
 * After a failed write or commit, abort() removes the temporary file.
 */
export class BodyWriter {
  readonly #root: string;
  readonly #target: string;
  readonly #dirs: WriterDirs;
  #pending: Uint8Array[] = [];
  #pendingBytes = 0;
  #temporary: string | null = null;
  #file: FileHandle | null = null;
  #done = false;

  constructor(root: string, target: string, dirs: WriterDirs) {
    this.#root = root;
    this.#target = target;
    this.#dirs = dirs;
  }

  async write(bytes: Uint8Array): Promise<void> {
    if (this.#done) throw new Error("body writer already committed or aborted");
    if (bytes.length === 0) return;
    this.#pending.push(bytes);
    this.#pendingBytes += bytes.length;
    if (this.#pendingBytes >= WRITE_BUFFER_BYTES) await this.#flush();
  }

  /** Durable under its key when this resolves: file fsynced, renamed, directory fsynced. */
  async commit(): Promise<void> {
    if (this.#done) throw new Error("body writer already committed or aborted");
    await this.#flush();
    const file = this.#file ?? (await this.#open());
    await file.sync();
    this.#file = null;
    await file.close();
    await this.#dirs.ensureDir(path.dirname(this.#target));
    await rename(this.#temporary!, this.#target);
    this.#done = true;
    this.#temporary = null;
    await this.#dirs.syncDir(path.dirname(this.#target));
  }

  /** Removes the temporary file; nothing was, or will be, stored under the key. */
  async abort(): Promise<void> {
    this.#done = true;
    this.#pending = [];
    const file = this.#file;
    const temporary = this.#temporary;
    this.#file = null;
    this.#temporary = null;
    await file?.close().catch(() => {});
    if (temporary) await rm(temporary, { force: true });
  }

  async #open(): Promise<FileHandle> {
    this.#temporary = path.join(this.#root, TEMPORARY, `${randomBytes(12).toString("hex")}.part`);
    this.#file = await open(this.#temporary, "wx", 0o600);
    return this.#file;
  }

  async #flush(): Promise<void> {
    if (this.#pendingBytes === 0) return;
    const pieces = this.#pending;
    this.#pending = [];
    this.#pendingBytes = 0;
    const file = this.#file ?? (await this.#open());
    const total = pieces.reduce((sum, piece) => sum + piece.length, 0);
    const { bytesWritten } = await file.writev(pieces);
    if (bytesWritten < total) await writeRest(file, pieces, bytesWritten);
  }
}

/** A short writev (rare on files, allowed by POSIX): the rest, piece by piece. */
async function writeRest(file: FileHandle, pieces: Uint8Array[], skip: number): Promise<void> {
  for (const piece of pieces) {
    if (skip >= piece.length) {
      skip -= piece.length;
      continue;
    }
    let offset = skip;
    skip = 0;
    while (offset < piece.length) {
      const { bytesWritten } = await file.write(piece, offset, piece.length - offset);
      offset += bytesWritten;
    }
  }
}

/**
 * The file's bytes, opened at the first read and closed at the end, on an error or on cancel: the
 * delivery agent fetches a body before it knows the smarthost will take it, and a body never read
 * must not hold a file descriptor.
 */
function lazyFileStream(file: string): ReadableStream<Uint8Array> {
  let handle: FileHandle | null = null;
  const close = async () => {
    const current = handle;
    handle = null;
    await current?.close();
  };
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        try {
          handle ??= await open(file, "r");
          const buffer = new Uint8Array(READ_CHUNK_BYTES);
          const { bytesRead } = await handle.read(buffer, 0, buffer.length, null);
          if (bytesRead > 0) return controller.enqueue(buffer.subarray(0, bytesRead));
          await close();
          controller.close();
        } catch (error) {
          await close().catch(() => {});
          throw error;
        }
      },
      cancel: close,
    },
    // Nothing is read ahead: no pull (and no open) before the consumer asks.
    { highWaterMark: 0 },
  );
}

/** Makes a directory's entries (a rename into it, a new subdirectory) durable. */
async function syncDir(dir: string): Promise<void> {
  const handle = await open(dir, "r");
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
