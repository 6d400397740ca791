// Calls back when any of some files changes on disk (contents replaced in place, or a new file
// renamed over the name, as certbot and friends do). Polling (fs.watchFile) rather than inotify:
// it follows the name, not the inode, so a rename over the file is seen too. Changes that land
// together (a certificate and its key) are reported once, after the writes settle.
import { unwatchFile, watchFile } from "node:fs";

export interface FileWatch {
  close(): void;
}

export function watchFiles(
  files: readonly string[],
  onChange: () => void,
  options: { intervalMs?: number; settleMs?: number } = {},
): FileWatch {
  const intervalMs = options.intervalMs ?? 1_000;
  const settleMs = options.settleMs ?? 250;
  let timer: NodeJS.Timeout | null = null;
  const listener = (
    current: { mtimeMs: number; ino: number },
    previous: { mtimeMs: number; ino: number },
  ) => {
    if (current.mtimeMs === previous.mtimeMs && current.ino === previous.ino) return;
    if (timer) clearTimeout(timer);
    timer = setTimeout(() => {
      timer = null;
      onChange();
    }, settleMs);
    timer.unref();
  };
  const unique = [...new Set(files)];
  for (const file of unique) watchFile(file, { interval: intervalMs, persistent: false }, listener);
  return {
    close() {
      if (timer) clearTimeout(timer);
      for (const file of unique) unwatchFile(file, listener);
    },
  };
}
