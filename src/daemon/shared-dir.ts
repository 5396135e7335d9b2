/**
 * StrictModes for mount directories (core/shared-directory.ts): a directory another user can write is refused at
 * `add` and pauses a mount when it becomes so, unless the mount was added with --allow-shared-dir. Whatever the
 * directory, the mount thread never writes to a pipe it did not make (native/rotate.c checks each rotation through
 * the descriptor).
 */
import { statSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { EnvmountError, errnoCode } from '../core/errors.js';
import { isSharedDirectory, sharedDirectoryReason } from '../core/shared-directory.js';

/** The reason a mount at `path` may not serve now, or undefined (opted in, or a directory only we can write). */
export function sharedDirectoryProblem(path: string, dir: string, uid: number, allowed: boolean): string | undefined {
  if (allowed) return undefined;
  const info = statSync(dirname(path), { throwIfNoEntry: false });
  return info && isSharedDirectory(info, uid) ? sharedDirectoryReason(path, dirname(path), dir, info, uid) : undefined;
}

/** Throws SHARED_DIRECTORY when other users can write the mount's directory and the mount did not opt in. */
export async function assertPrivateDirectory(path: string, dir: string, uid: number, allowed: boolean): Promise<void> {
  if (allowed) return;
  const info = await stat(dirname(path)).catch((error: unknown) => {
    if (errnoCode(error) === 'ENOENT' || errnoCode(error) === 'ENOTDIR') return undefined;
    throw error;
  });
  if (info && isSharedDirectory(info, uid)) {
    const reason = sharedDirectoryReason(path, dirname(path), dir, info, uid);
    throw new EnvmountError('SHARED_DIRECTORY', `Cannot mount "${path}": ${reason}`);
  }
}
