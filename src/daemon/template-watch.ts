/**
 * Notices edits of a mount's template. The file is watched, not its directory: the directory also holds the mount's
 * FIFO, whose rotation at every read would wake the daemon's event loop 2-3 times per read (measured: p50 of a
 * 4 KiB read 156 -> 275 us). Editors that save by renaming a new file over the old one end the watch on the old
 * inode ("rename"); the watch is then set again on whatever file is at the path. Changes within 100 ms are folded
 * into one call.
 */
import { type FSWatcher, watch } from 'node:fs';

const SETTLE_MS = 100;

/** Calls `onChange` after the template at `path` changes; returns the function that stops watching (idempotent). */
export function watchTemplate(path: string, onChange: () => void): () => void {
  let timer: NodeJS.Timeout | undefined;
  let watcher: FSWatcher | undefined;
  let stopped = false;
  const arm = () => {
    watcher?.close();
    watcher = undefined;
    if (stopped) return;
    try {
      watcher = watch(path, { persistent: false }, (event) => {
        clearTimeout(timer);
        timer = setTimeout(() => {
          // A replaced file is a new inode: watch that one from now on.
          if (event === 'rename') arm();
          onChange();
        }, SETTLE_MS);
      });
      watcher.on('error', () => watcher?.close());
    } catch {
      // No template at the path now (deleted with its project): the mount reports itself; `envmount add` re-arms.
    }
  };
  arm();
  return () => {
    stopped = true;
    clearTimeout(timer);
    watcher?.close();
    watcher = undefined;
  };
}
