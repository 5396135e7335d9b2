/**
 * Notices edits of a mount's template, with chokidar on the file itself, not its directory: the directory also
 * holds the mount's FIFO, whose rotation at every read would wake the daemon's event loop 2-3 times per read
 * (measured: p50 of a 4 KiB read 156 -> 275 us). chokidar follows editors that save by renaming a new file over
 * the old one (a new inode is watched again). Changes within 100 ms are folded into one call. A template deleted
 * with its project is watched again when the mount heals (mount-healer.ts).
 */
import { watch } from 'chokidar';

const SETTLE_MS = 100;

export interface TemplateWatch {
  /** Stops watching (idempotent). */
  readonly stop: () => void;
  /**
   * Settles once changes are seen (chokidar's `ready`), or the file cannot be watched: an edit made after this is
   * noticed; one made before may not be. `envmount add` returns after it.
   */
  readonly ready: Promise<void>;
}

/** Calls `onChange` after the template at `path` changes. */
export function watchTemplate(path: string, onChange: () => void): TemplateWatch {
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  const watcher = watch(path, { ignoreInitial: true, persistent: false });
  const ready = new Promise<void>((resolve) => {
    watcher.once('ready', () => resolve());
    watcher.once('error', () => resolve());
  });
  watcher.on('all', () => {
    clearTimeout(timer);
    timer = setTimeout(() => {
      if (!stopped) onChange();
    }, SETTLE_MS);
  });
  // A template that cannot be watched (gone with its project) is reported by the mount; nothing to do here.
  watcher.on('error', () => undefined);
  const stop = () => {
    if (stopped) return;
    stopped = true;
    clearTimeout(timer);
    void watcher.close();
  };
  return { stop, ready };
}
