/**
 * StrictModes for mount directories (core/shared-directory.ts): a directory another user can write is refused at
 * `add` and pauses a mount when it becomes so, unless the mount was added with --allow-shared-dir. Whatever the
 * directory, the mount thread never writes to a pipe it did not make (native/rotate.c checks each rotation through
 * the descriptor).
 */
import { readFileSync, statSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import { userInfo } from 'node:os';
import { dirname } from 'node:path';
import { EnvmountError, errnoCode } from '../../core/errors.js';
import { isSharedDirectory, privateGroupOf, sharedDirectoryReason } from '../../core/shared-directory.js';
import { pathHasAcl } from '../../native/index.js';

// Owned here: the user's private group, read from /etc once (the daemon hands it to the mount threads at start).
let privateGid: number | undefined;

/** The daemon user's private group (core/shared-directory.ts), or -1. Read once; /etc files missing: -1. */
export function userPrivateGroup(): number {
  if (privateGid === undefined) {
    const read = (file: string) => {
      try {
        return readFileSync(file, 'utf8');
      } catch {
        return '';
      }
    };
    const user = userInfo();
    privateGid = privateGroupOf(user, read('/etc/group'), read('/etc/passwd'));
  }
  return privateGid;
}

/** The reason a mount at `path` may not serve now, or undefined (opted in, or a directory only we can write). */
export function sharedDirectoryProblem(path: string, dir: string, uid: number, allowed: boolean): string | undefined {
  if (allowed) return undefined;
  const stats = statSync(dirname(path), { throwIfNoEntry: false });
  const info = stats && { uid: stats.uid, gid: stats.gid, mode: stats.mode, acl: pathHasAcl(dirname(path)) };
  return info && isSharedDirectory(info, uid, userPrivateGroup())
    ? sharedDirectoryReason(path, dirname(path), dir, info, uid)
    : undefined;
}

/** Throws SHARED_DIRECTORY when other users can write the mount's directory and the mount did not opt in. */
export async function assertPrivateDirectory(path: string, dir: string, uid: number, allowed: boolean): Promise<void> {
  if (allowed) return;
  const stats = await stat(dirname(path)).catch((error: unknown) => {
    if (errnoCode(error) === 'ENOENT' || errnoCode(error) === 'ENOTDIR') return undefined;
    throw error;
  });
  const info = stats && { uid: stats.uid, gid: stats.gid, mode: stats.mode, acl: pathHasAcl(dirname(path)) };
  if (info && isSharedDirectory(info, uid, userPrivateGroup())) {
    const reason = sharedDirectoryReason(path, dirname(path), dir, info, uid);
    throw new EnvmountError('SHARED_DIRECTORY', `Cannot mount "${path}": ${reason}`);
  }
}
