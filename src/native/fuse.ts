/** The FUSE backend's native functions (native/fuse-*.c), typed; present only where envmount was built with libfuse 3. */
import type {
  FuseAddon,
  FuseEvent,
  FuseMount,
  FuseMountOptions,
  FuseRunner,
  FuseSupport,
  FuseTicket,
} from './fuse-types.js';
import { loaded } from './load.js';

const addon = loaded as Partial<FuseAddon> & { fuseSupport(): FuseSupport };

/**
 * Whether FUSE mounts can be made here: built with libfuse 3, /dev/fuse openable, and fusermount3 (setuid) on PATH
 * for a user who is not root. `reason` names what is missing.
 */
export function fuseSupport(): FuseSupport {
  return addon.fuseSupport();
}

function fuse(): FuseAddon {
  if (addon.fuseMount === undefined) {
    const reason = addon.fuseSupport();
    throw Object.assign(new Error(reason.available ? 'FUSE unavailable' : reason.reason), { code: 'ENOSYS' });
  }
  return addon as FuseAddon;
}

/**
 * Mounts a FUSE session on the regular file at `path` (the caller made it: mode 0600, never truncated) and serves
 * it from a thread of its own: a regular file, mode 0600, this process's uid; other users (root too) get EACCES.
 * `decide`: each open is held and reported (`open` with a ticket); otherwise served the content at once.
 */
export function fuseMount(path: string, options: FuseMountOptions, onEvent: (event: FuseEvent) => void): FuseMount {
  return fuse().fuseMount(path, options, onEvent);
}

/** The bytes every open gets under decide false (copied, mlocked; the caller zeroes its buffer), and st_mtime.
 * null: no content (opens refused, size 0). */
export function fuseSetContent(mount: FuseMount, content: Buffer | null, mtimeMs: number): { locked: boolean } {
  return fuse().fuseSetContent(mount, content, mtimeMs);
}

/** Whether opens are held for a decision (`open` events) or served at once (but see fuseSetHandUp). */
export const fuseSetDecide = (mount: FuseMount, decide: boolean): void => fuse().fuseSetDecide(mount, decide);

/**
 * Process-wide: under decide false, an opener whose executable's basename or any argument's last path component
 * matches one of these fnmatch(3) patterns is held for a decision (`open`) instead of served at once; so is one
 * whose executable or command line cannot be read. null or []: every opener is served at once.
 */
export const fuseSetHandUp = (patterns: readonly string[] | null): void => fuse().fuseSetHandUp(patterns);

/** Answers a held open once: the handle's whole content, or null: EACCES. EINVAL: answered already (or stopped). */
export function fuseFinishOpen(ticket: FuseTicket, content: Buffer | null): void {
  fuse().fuseFinishOpen(ticket, content);
}

/** Ends the session (held opens get EIO), unmounts, then `stopped`; the caller removes the file. Idempotent. */
export function fuseUnmount(mount: FuseMount): void {
  fuse().fuseUnmount(mount);
}

/** Detaches envmount's stale FUSE mount at `path` (a crashed daemon's: ENOTCONN). Nothing mounted: no-op. */
export const fuseDetach = (path: string): void => fuse().fuseDetach(path);

/** lstat()'s device and inode at `path` from the kernel's cache (statx AT_STATX_DONT_SYNC: no FUSE session asked). */
export const fuseIdentity = (path: string): { dev: number; ino: number } => fuse().fuseIdentity(path);

/** From now on mounts, unmounts and detaches run fusermount3 under `runner` (null: directly). Set it before any
 * mount; without FUSE, nothing to do. */
export function fuseUseRunner(runner: FuseRunner | null): void {
  addon.fuseUseRunner?.(runner);
}

/** Whether envmount's FUSE mount (fstype fuse.envmount) is at `path` (/proc/self/mountinfo). */
export function fuseMounted(path: string): boolean {
  return addon.fuseMounted?.(path) ?? false;
}
