/**
 * The embedded store's key: 32 random bytes in a 0600 file under the config dir (or a file the user names with
 * ENVMOUNT_STORE_KEY_FILE). Created on first use; refused if others can read it.
 */
import { randomBytes } from 'node:crypto';
import { open, readFile, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { EnvmountError, errnoCode } from '../core/errors.js';
import { ensurePrivateDir } from '../io/atomic-write.js';

export const KEY_BYTES = 32;

async function create(path: string): Promise<Buffer> {
  await ensurePrivateDir(dirname(path));
  const key = randomBytes(KEY_BYTES);
  const handle = await open(path, 'wx', 0o600);
  try {
    await handle.writeFile(key);
    await handle.sync();
  } finally {
    await handle.close();
  }
  return key;
}

/** Reads the key, creating it when `createIfMissing` (first start with no store yet). */
export async function loadStoreKey(path: string, createIfMissing: boolean): Promise<Buffer> {
  let info: Awaited<ReturnType<typeof stat>>;
  try {
    info = await stat(path);
  } catch (error) {
    if (errnoCode(error) === 'ENOENT' && createIfMissing) return create(path);
    throw new EnvmountError(
      'STORE_KEY',
      `Cannot read the store key "${path}": ${errnoCode(error) ?? 'unknown error'}. The encrypted store cannot be opened without it; restore the key file or set ENVMOUNT_STORE_KEY_FILE.`,
      { cause: error },
    );
  }
  if ((info.mode & 0o077) !== 0) {
    throw new EnvmountError(
      'STORE_KEY',
      `The store key "${path}" is readable by other users (mode ${(info.mode & 0o777).toString(8)}). Run \`chmod 600 ${path}\`.`,
    );
  }
  const key = await readFile(path);
  if (key.length !== KEY_BYTES) {
    key.fill(0);
    throw new EnvmountError(
      'STORE_KEY',
      `The store key "${path}" is not ${KEY_BYTES} bytes long; it is not an envmount key.`,
    );
  }
  return key;
}
