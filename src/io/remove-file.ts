/** Removing a file that may already be gone (teardown is ENOENT-tolerant). */
import { unlink } from 'node:fs/promises';

/** Removes a file; false if it was not there. Other errors are thrown. */
export async function removeFile(path: string): Promise<boolean> {
  try {
    await unlink(path);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw error;
  }
}
