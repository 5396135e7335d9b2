/**
 * Notices edits of a mount's template. The directory is watched, not the file, because editors save by writing a
 * new file and renaming it over the old one; events for other names (the mount's own FIFO rotations among them)
 * are dropped at once. Changes within 100 ms are folded into one call.
 */
import { type FSWatcher, watch } from 'node:fs';
import { basename, dirname } from 'node:path';

const SETTLE_MS = 100;

/** Calls `onChange` after the template at `path` changes; returns the function that stops watching (idempotent). */
export function watchTemplate(path: string, onChange: () => void): () => void {
  const name = basename(path);
  let timer: NodeJS.Timeout | undefined;
  let watcher: FSWatcher | undefined;
  try {
    watcher = watch(dirname(path), { persistent: false }, (_event, filename) => {
      if (filename !== name) return;
      clearTimeout(timer);
      timer = setTimeout(onChange, SETTLE_MS);
    });
    // The directory went away: the mount reports itself paused; nothing to watch until it is added again.
    watcher.on('error', () => watcher?.close());
  } catch {
    watcher = undefined;
  }
  return () => {
    clearTimeout(timer);
    watcher?.close();
    watcher = undefined;
  };
}
