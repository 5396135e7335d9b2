/**
 * The placeholder a FUSE mount is mounted on: an empty regular file of ours, mode 0600, at the mount path. It is
 * hidden while the mount is up; the backend makes it before mounting and removes it after unmounting, so no empty
 * `.env` is left for a loader to mistake for the real one. An empty 0600 regular file of ours at a FUSE mount's
 * path is taken for the placeholder a killed daemon left (it holds nothing to lose).
 */
import { constants, lstatSync, type Stats } from 'node:fs';
import { open } from 'node:fs/promises';
import { dirname } from 'node:path';
import { EnvmountError, errnoCode } from '../../../core/errors.js';
import { removeFile } from '../../../io/remove-file.js';
import { fuseDetach, fuseMounted } from '../../../native/index.js';

export type PlaceholderLook =
  | { readonly kind: 'absent' }
  | { readonly kind: 'placeholder'; readonly stats: Stats }
  /** A FUSE mount whose daemon is gone (the kernel answers ENOTCONN). */
  | { readonly kind: 'stale' }
  | { readonly kind: 'other'; readonly stats: Stats };

export function lookAtPlaceholder(path: string, uid: number): PlaceholderLook {
  let stats: Stats | undefined;
  try {
    stats = lstatSync(path, { throwIfNoEntry: false });
  } catch (error) {
    if (errnoCode(error) === 'ENOTCONN') return { kind: 'stale' };
    throw error;
  }
  if (!stats) return { kind: 'absent' };
  // On its directory's device: a mount on it (ours, live) is on the FUSE connection's.
  const onDir = stats.dev === lstatSync(dirname(path), { throwIfNoEntry: false })?.dev;
  const ours = onDir && stats.isFile() && stats.uid === uid && stats.size === 0 && (stats.mode & 0o777) === 0o600;
  return ours ? { kind: 'placeholder', stats } : { kind: 'other', stats };
}

/**
 * Makes sure the placeholder is at `path`: detaches a stale mount of a killed daemon, reclaims its placeholder, or
 * creates one (O_CREAT|O_EXCL|O_NOFOLLOW: never opens what is there). Returns whether a leftover was reclaimed and
 * the placeholder's mtime (ms).
 */
export async function placePlaceholder(
  path: string,
  dir: string,
  uid: number,
): Promise<{ reclaimed: boolean; mtimeMs: number }> {
  let look = lookAtPlaceholder(path, uid);
  let reclaimed = false;
  if (look.kind === 'stale') {
    fuseDetach(path);
    reclaimed = true;
    look = lookAtPlaceholder(path, uid);
  }
  if (look.kind === 'placeholder') return { reclaimed: true, mtimeMs: look.stats.mtimeMs };
  if (look.kind === 'other') throw occupied(path, dir, look.stats);
  if (look.kind === 'stale')
    throw new EnvmountError(
      'PATH_NOT_ALLOWED',
      `Cannot mount "${path}": a stale mount is there that could not be detached. Run \`fusermount3 -uz ${path}\`.`,
    );
  try {
    const handle = await open(
      path,
      constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW,
      0o600,
    );
    await handle.close();
  } catch (error) {
    const code = errnoCode(error);
    if (code === 'ENOENT' || code === 'ENOTDIR')
      throw new EnvmountError('DIRECTORY_MISSING', `Cannot mount "${path}": its directory does not exist.`, {
        cause: error,
      });
    if (code === 'EEXIST') return placePlaceholder(path, dir, uid);
    throw error;
  }
  return { reclaimed, mtimeMs: Date.now() };
}

function occupied(path: string, dir: string, stats: Stats): EnvmountError {
  if (stats.isFile())
    return new EnvmountError(
      'REGULAR_FILE_PRESENT',
      path === `${dir}/.env`
        ? `Cannot mount "${path}": a regular file with content is there. Run \`envmount import ${dir} --merge\` to move its values into the store, or move it away and run \`envmount add ${dir} --backend fuse\` again.`
        : `Cannot mount "${path}": a regular file with content is there. Move it away, or choose another path with --path.`,
    );
  const what = stats.isFIFO() ? 'a named pipe' : stats.isSymbolicLink() ? 'a symbolic link' : 'something else';
  return new EnvmountError(
    'PATH_NOT_ALLOWED',
    `Cannot mount "${path}" with the FUSE backend: ${what} is there. Remove it (\`envmount remove ${dir}\` if it is a mount of the FIFO backend), then add it again.`,
  );
}

/** Removes the placeholder if it is still ours and nothing is mounted on it. ENOENT is fine. */
export async function removePlaceholder(path: string, uid: number): Promise<boolean> {
  let look: PlaceholderLook;
  try {
    look = lookAtPlaceholder(path, uid);
  } catch {
    return false;
  }
  return look.kind === 'placeholder' ? removeFile(path).catch(() => false) : false;
}

/** After a daemon stopped (`envmountd cleanup`): detaches a mount it left (readers get ENOENT, not ENOTCONN) and
 * removes the placeholder, so no empty `.env` stays. Returns whether anything was there. */
export async function cleanUpFuseMount(path: string, uid: number): Promise<boolean> {
  let detached = false;
  if (lookAtPlaceholder(path, uid).kind === 'stale' || fuseMounted(path)) {
    fuseDetach(path);
    detached = true;
  }
  return (await removePlaceholder(path, uid)) || detached;
}
