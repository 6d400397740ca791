// One process per data folder. The Node runtime is its database's only writer, which is what lets
// it drop the delivery leases a killed predecessor left (instead of waiting out LEASE_MS) and clear
// its temporary files. The lock is a file holding the owner's pid; a pid that no longer runs is a
// crash, and its lock is taken over.
import { mkdir, open, readFile, rm } from "node:fs/promises";
import path from "node:path";

export interface DataDirLock {
  file: string;
  /** The folder was last held by a process that did not release it (killed, crashed). */
  recovered: boolean;
  release(): Promise<void>;
}

export class DataDirLockedError extends Error {
  readonly code = "ERR_DATA_DIR_LOCKED";
  readonly transient = false;
}

const LOCK_FILE = "postern.lock";
/** Locks this process holds: its own pid in a lock file is otherwise taken for an earlier life. */
const held = new Set<string>();

export async function lockDataDir(dir: string): Promise<DataDirLock> {
  await mkdir(dir, { recursive: true });
  const file = path.join(path.resolve(dir), LOCK_FILE);
  if (held.has(file)) throw new DataDirLockedError(`data folder ${dir} is already open in this process`);
  let recovered = false;
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const handle = await open(file, "wx", 0o600);
      try {
        await handle.writeFile(`${process.pid}\n`);
        await handle.sync();
      } finally {
        await handle.close();
      }
      held.add(file);
      return { file, recovered, release: () => releaseLock(file) };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    }
    const owner = Number.parseInt(await readFile(file, "utf8").catch(() => ""), 10);
    if (Number.isInteger(owner) && owner > 0 && owner !== process.pid && isRunning(owner)) {
      throw new DataDirLockedError(
        `data folder ${dir} is in use by process ${owner} (if it is not, remove ${file})`,
      );
    }
    // Left by a process that is gone (or by this pid in an earlier life, as in a container).
    recovered = true;
    await rm(file, { force: true });
  }
  throw new DataDirLockedError(`could not take the lock ${file}: another process keeps taking it`);
}

async function releaseLock(file: string): Promise<void> {
  if (!held.delete(file)) return;
  const owner = Number.parseInt(await readFile(file, "utf8").catch(() => ""), 10);
  if (owner === process.pid) await rm(file, { force: true });
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it runs, under another user.
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}
