/**
 * FUSE mounts in tests (native/fuse-*.c): a placeholder file in a temp dir, a mount with its events recorded, and
 * a teardown that leaves no mount behind whatever happened (unmount, then detach what a dead process left).
 */
import { closeSync, mkdtempSync, openSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import {
  type FuseEvent,
  type FuseMount,
  fuseDetach,
  fuseMount,
  fuseMounted,
  fuseSupport,
  fuseUnmount,
} from '../../src/native/index.js';

const support = fuseSupport();
/** Why the FUSE tests are skipped here, or undefined when they run. */
export const FUSE_SKIP = support.available ? undefined : `FUSE unavailable: ${support.reason}`;
/** A describe title that states why it is skipped, when it is. */
export const fuseTitle = (title: string, skip = FUSE_SKIP): string => (skip ? `${title} (skipped: ${skip})` : title);

export interface Mounted {
  readonly path: string;
  readonly mount: FuseMount;
  readonly events: FuseEvent[];
  /** The first event (from now on or already seen) of `type` matching `match`. */
  next<T extends FuseEvent['type']>(
    type: T,
    match?: (e: Extract<FuseEvent, { type: T }>) => boolean,
  ): Promise<Extract<FuseEvent, { type: T }>>;
}

const dirs: string[] = [];
const mounts: Mounted[] = [];

/** A placeholder `.env` (mode 0600, created exclusively) in a fresh temp dir. */
export function placeholder(): string {
  const dir = mkdtempSync('/tmp/emt-fuse-');
  dirs.push(dir);
  const path = join(dir, '.env');
  closeSync(openSync(path, 'wx', 0o600));
  return path;
}

export function mountAt(path: string, decide: boolean, onEvent?: (e: FuseEvent) => void, background = false): Mounted {
  const events: FuseEvent[] = [];
  const waiters: Array<{ test: (e: FuseEvent) => boolean; resolve: (e: FuseEvent) => void }> = [];
  const mount = fuseMount(path, { decide, background }, (e) => {
    events.push(e);
    onEvent?.(e);
    for (const w of [...waiters]) {
      if (w.test(e)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(e);
      }
    }
  });
  const m: Mounted = {
    path,
    mount,
    events,
    next: (type, match) =>
      new Promise((resolve) => {
        // biome-ignore lint/suspicious/noExplicitAny: narrowed by `type`
        const test = (e: FuseEvent) => e.type === type && (!match || match(e as any));
        const seen = events.find(test);
        // biome-ignore lint/suspicious/noExplicitAny: narrowed by `type`
        if (seen) resolve(seen as any);
        // biome-ignore lint/suspicious/noExplicitAny: narrowed by `type`
        else waiters.push({ test, resolve: resolve as any });
      }),
  };
  mounts.push(m);
  return m;
}

/** Unmounts and waits for `stopped`. */
export async function unmount(m: Mounted): Promise<void> {
  const stopped = m.next('stopped');
  fuseUnmount(m.mount);
  await stopped;
}

/** afterEach: every mount of the test gone (ours unmounted, any other detached), every temp dir removed. */
export async function cleanupFuse(): Promise<void> {
  for (const m of mounts.splice(0)) {
    if (!m.events.some((e) => e.type === 'stopped')) await unmount(m);
  }
  for (const dir of dirs.splice(0)) {
    fuseDetach(join(dir, '.env'));
    rmSync(dir, { recursive: true, force: true });
  }
}

export { fuseMounted };
