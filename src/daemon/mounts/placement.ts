/**
 * What is at a mount path, and the rules for putting a FIFO there: never follow a symlink, never replace a regular
 * file or anything envmount did not make, reclaim a FIFO of ours left by a killed daemon.
 */
import { lstatSync, type Stats } from 'node:fs';
import { chmod, lstat, readdir, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { EnvmountError, errnoCode } from '../../core/errors.js';
import { removeFile } from '../../io/remove-file.js';
import { mkfifo } from '../../native/index.js';

export type PathState =
  | { readonly kind: 'absent' }
  | { readonly kind: 'fifo'; readonly inode: number; readonly mine: boolean; readonly mode: number }
  | { readonly kind: 'symlink' | 'regular' | 'directory' | 'other' };

function classify(info: Stats, uid: number): PathState {
  if (info.isFIFO()) return { kind: 'fifo', inode: info.ino, mine: info.uid === uid, mode: info.mode & 0o777 };
  if (info.isSymbolicLink()) return { kind: 'symlink' };
  if (info.isFile()) return { kind: 'regular' };
  if (info.isDirectory()) return { kind: 'directory' };
  return { kind: 'other' };
}

export async function inspectPath(path: string, uid: number): Promise<PathState> {
  try {
    return classify(await lstat(path), uid);
  } catch (error) {
    if (errnoCode(error) === 'ENOENT' || errnoCode(error) === 'ENOTDIR') return { kind: 'absent' };
    throw error;
  }
}

/** inspectPath without the thread pool: one lstat, microseconds, for the healer's frequent looks. */
export function inspectPathSync(path: string, uid: number): PathState {
  const info = lstatSync(path, { throwIfNoEntry: false });
  return info ? classify(info, uid) : { kind: 'absent' };
}

export async function exists(path: string): Promise<boolean> {
  return (await inspectPath(path, -1)).kind !== 'absent';
}

/** The error that forbids mounting at `path` in `state`, or undefined when a FIFO may be placed or reclaimed. */
export function placementError(path: string, dir: string, state: PathState): EnvmountError | undefined {
  const where = `Cannot mount "${path}"`;
  switch (state.kind) {
    case 'absent':
      return undefined;
    case 'fifo':
      return state.mine
        ? undefined
        : new EnvmountError('PATH_NOT_ALLOWED', `${where}: a named pipe of another user is there. Remove it first.`);
    case 'symlink':
      return new EnvmountError(
        'PATH_IS_SYMLINK',
        `${where}: it is a symbolic link, and envmount never follows one at a mount path (the link and its target were left untouched). Remove the link, or choose another path with \`envmount add ${dir} --path FILE\`.`,
      );
    case 'regular':
      return new EnvmountError(
        'REGULAR_FILE_PRESENT',
        path === `${dir}/.env`
          ? `${where}: a regular file is there. Run \`envmount import ${dir} --merge\` to move its values into the store and add their references to the template (the plaintext file is overwritten and removed), or move it away and run \`envmount add ${dir}\` again.`
          : `${where}: a regular file is there. Move it away (\`envmount import\` takes only DIR/.env), or choose another path with --path.`,
      );
    default:
      return new EnvmountError(
        'PATH_NOT_ALLOWED',
        `${where}: a ${state.kind} is there. Choose another path with --path.`,
      );
  }
}

/** The prefix of the names beside the mount path that each rotation creates and renames over it, with a random
 * suffix (native/rotate.c): the next one waits there while the mount serves. It starts with `.~`, so that no glob a
 * person or a loader uses for the mount (`.env*`, `.env.*`) names it: a reader opening it would wait for a writer. */
export function rotationTempPath(path: string): string {
  return join(dirname(path), `.~${basename(path)}.envmount-swap`);
}

/** The prefix used before the spare was kept (`.env.envmount-swap-*`): still removed when a killed daemon left one. */
function legacyRotationPrefix(path: string): string {
  return `${basename(path)}.envmount-swap`;
}

/**
 * Makes sure a FIFO of ours, mode 0600, is at `path`: creates it, or reclaims one a killed daemon left (readers
 * blocked on it are then served). Throws the placement error otherwise. Returns whether it was reclaimed.
 */
export async function placeFifo(path: string, dir: string, uid: number): Promise<boolean> {
  const state = await inspectPath(path, uid);
  const refusal = placementError(path, dir, state);
  if (refusal) throw refusal;
  await removeStaleTemp(path, uid);
  if (state.kind === 'fifo') {
    if (state.mode !== 0o600) await chmod(path, 0o600);
    return true;
  }
  try {
    mkfifo(path, 0o600);
  } catch (error) {
    const code = errnoCode(error);
    if (code === 'ENOENT' || code === 'ENOTDIR') {
      throw new EnvmountError('DIRECTORY_MISSING', `Cannot mount "${path}": its directory does not exist.`, {
        cause: error,
      });
    }
    if (code === 'EEXIST') return placeFifo(path, dir, uid);
    throw error;
  }
  return false;
}

/** Removes rotation names left by a killed daemon (the prefix, with or without a suffix), if FIFOs of ours. */
export async function removeStaleTemp(path: string, uid: number): Promise<void> {
  const prefixes = [basename(rotationTempPath(path)), legacyRotationPrefix(path)];
  const names = await readdir(dirname(path)).catch(() => [] as string[]);
  for (const name of names.filter((n) => prefixes.some((p) => n === p || n.startsWith(`${p}-`)))) {
    const temp = join(dirname(path), name);
    const state = await inspectPath(temp, uid);
    if (state.kind === 'fifo' && state.mine) await unlink(temp).catch(() => undefined);
  }
}

/** Removes the FIFO at `path` only if it is still the inode the daemon served there. ENOENT is fine. */
export async function removeOwnFifo(path: string, inode: number, uid: number): Promise<boolean> {
  const state = await inspectPath(path, uid);
  if (state.kind !== 'fifo' || !state.mine || state.inode !== inode) return false;
  return removeFile(path);
}
