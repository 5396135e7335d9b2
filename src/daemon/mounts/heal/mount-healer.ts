/**
 * Mounts that heal themselves. A look at a mount's path (one lstat) decides what to do; when to look is
 * heal-schedule.ts's (soon after native/watch.c reports a change, and on a timer as a safety net):
 * - the FIFO deleted (`rm .env`, `git clean`): a new one is placed;
 * - something else put there (an editor saving a regular file over it): the mount steps aside, `displaced`, the
 *   file untouched, and comes back by itself once the path is free again;
 * - the project directory gone: the mount is `paused`, and resumes when the directory is back;
 * - another FIFO of ours at the path while the thread waits on a deleted one: the path is taken over again;
 * - the directory became writable by other users (and the mount did not opt in): the mount is `paused`, saying so,
 *   and resumes once it is not (shared-dir.ts).
 * The daemon's own rotations swap inodes in microseconds: an inode that differs for two looks in a row is not one.
 */
import { access } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { MountState } from '../../../control/protocol.js';
import { lookAtMounts, MOUNT_LOOK } from '../../../native/index.js';
import { TEMPLATE_NAMES } from '../../templates/templates.js';
import type { Mount } from '../mount.js';
import { directoryGoneReason } from '../mount-reasons.js';
import { inspectPathSync, type PathState } from '../placement.js';
import { sharedDirectoryProblem } from '../shared-dir.js';

/** What the healer looks after: a mount (the MountService's entries are these, and more). */
export interface Healable {
  readonly mount: Mount;
}

export type HealAction =
  | { readonly kind: 'none' }
  | { readonly kind: 'replace' }
  | { readonly kind: 'pause'; readonly reason?: string }
  | { readonly kind: 'displace'; readonly what: string };

export interface HealFacts {
  readonly state: MountState;
  readonly path: PathState;
  readonly dirExists: boolean;
  /** The inode the mount thread serves (0 before the first report). */
  readonly inode: number;
  /** The foreign inode seen at the last look, if any. */
  readonly suspect: number | undefined;
  /** Why the directory is not safe to serve from (other users can write it), if so. */
  readonly sharedDir?: string | undefined;
}

export function healAction(f: HealFacts): HealAction {
  const { path } = f;
  if (f.state === 'stopped') return { kind: 'none' };
  if (f.sharedDir !== undefined)
    return f.state === 'serving' ? { kind: 'pause', reason: f.sharedDir } : { kind: 'none' };
  if (f.state !== 'serving') {
    // Waiting to come back: the directory is there and the path is free (or holds a leftover FIFO of ours).
    // A mount in error with its FIFO still there is not retried every look: `envmount add` retries it.
    const free = path.kind === 'absent' || (path.kind === 'fifo' && path.mine && f.state !== 'error');
    if (f.dirExists && free) return { kind: 'replace' };
    // Something not ours at the path of a mount waiting for it is a displacement, and saying so is what brings the
    // mount back once the path is free. `rm .env; echo X > .env` races the heal that places a new FIFO: the heal
    // ends in error (the file came first), or, the FIFO placed and unlinked before the thread opened it, paused
    // (its thread's ENOENT) while the file appears after. A displaced mount already says so.
    const occupied = path.kind !== 'absent' && !(path.kind === 'fifo' && path.mine);
    return f.state !== 'displaced' && f.dirExists && occupied
      ? { kind: 'displace', what: occupant(path) }
      : { kind: 'none' };
  }
  switch (path.kind) {
    case 'absent':
      return f.dirExists ? { kind: 'replace' } : { kind: 'pause' };
    case 'fifo':
      if (!path.mine) return { kind: 'displace', what: occupant(path) };
      if (f.inode === 0 || path.inode === f.inode || path.inode !== f.suspect) return { kind: 'none' };
      return { kind: 'replace' };
    default:
      return { kind: 'displace', what: occupant(path) };
  }
}

/** What stands at a mount path that is not the mount's, in words. */
function occupant(path: PathState): string {
  if (path.kind === 'fifo') return 'a named pipe of another user';
  return path.kind === 'regular' ? 'a regular file' : `a ${path.kind}`;
}

async function hasTemplate(dir: string): Promise<boolean> {
  for (const name of TEMPLATE_NAMES)
    if (
      await access(join(dir, name)).then(
        () => true,
        () => false,
      )
    )
      return true;
  return false;
}

export interface HealOps<E extends Healable> {
  /** Stops the thread (the FIFO stays) and places the mount again, template re-read. */
  readonly restart: (entry: E) => Promise<void>;
  readonly logger: Logger;
}

/** The mounts whose path holds what their backend serves, so need no look: a backend that can tell by itself
 * (FUSE: one lstat) does; FIFOs are looked at together in one native call (the common case costs one lstat in C
 * per mount and no allocation). */
export function healthyMounts<E extends Healable>(entries: readonly E[]): Set<E> {
  const serving = entries.filter((e) => e.mount.state === 'serving');
  const told = serving.map((e) => e.mount.intact());
  const fifos = serving.filter((e, i) => told[i] === undefined && e.mount.handle);
  const codes = lookAtMounts(fifos.flatMap((e) => (e.mount.handle ? [e.mount.handle] : [])));
  return new Set([
    ...serving.filter((_, i) => told[i] === true),
    ...fifos.filter((_, i) => codes[i] === MOUNT_LOOK.same),
  ]);
}

/**
 * One look at one mount (synchronous: one or two lstat calls): what should follow from it, and the foreign inode
 * to remember for the next look (`suspect`: the one seen at the last look, if any).
 */
export function lookAt(
  entry: Healable,
  uid: number,
  suspect: number | undefined,
): { action: HealAction; suspect: number | undefined } {
  const { mount } = entry;
  const { path: fifo, dir, allowSharedDir } = mount.record;
  let sharedDir: string | undefined;
  try {
    sharedDir = sharedDirectoryProblem(fifo, dir, uid, allowSharedDir === true);
  } catch {
    sharedDir = undefined; // EACCES and the like: the other looks decide.
  }
  let path: PathState;
  try {
    path = mount.inspect();
  } catch {
    // EACCES and the like: nothing to decide from; the next look may tell more.
    return { action: { kind: 'none' }, suspect };
  }
  // The directory matters only when the path is free (or the mount waits for it): one lstat less per healthy look.
  const needDir = path.kind === 'absent' || mount.state !== 'serving';
  const action = healAction({
    state: mount.state,
    path,
    dirExists: needDir && inspectPathSync(mount.record.dir, uid).kind === 'directory',
    inode: mount.inode,
    suspect,
    sharedDir,
  });
  return { action, suspect: path.kind === 'fifo' && path.inode !== mount.inode ? path.inode : undefined };
}

/** Carries out what a look decided. Failures are reported in the mount's state, never thrown. */
export async function heal<E extends Healable>(entry: E, action: HealAction, ops: HealOps<E>): Promise<void> {
  const { mount } = entry;
  if (action.kind === 'none') return;
  ops.logger.info({ path: mount.path, action: action.kind, state: mount.state }, 'healing mount');
  try {
    if (action.kind === 'replace') {
      await ops.restart(entry);
      return;
    }
    await mount.stop(false);
    if (action.kind === 'pause') mount.pause(action.reason ?? directoryGoneReason(mount.record.dir));
    else mount.displace(action.what, await hasTemplate(mount.record.dir));
  } catch (error) {
    mount.fail((error as Error).message);
    ops.logger.warn({ path: mount.path, err: error }, 'healing failed');
  }
}
