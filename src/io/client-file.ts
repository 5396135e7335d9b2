/**
 * Opening a file a client named (a template, an `--env-file`, a `.env` to import) without ever blocking: what is
 * at the path is looked at first (a FIFO, device or socket is never opened), the open is non-blocking and never
 * makes a terminal ours, and the descriptor itself is checked (a regular file, at most `maxBytes`), since the path
 * can change between the look and the open. A problem comes back as words for the caller's message, not a throw.
 */
import { constants } from 'node:fs';
import { type FileHandle, lstat, open, stat } from 'node:fs/promises';

/** The default cap on a client-named file: a template or env file is far smaller. */
export const CLIENT_FILE_MAX_BYTES = 1024 * 1024;

export interface ClientFileOptions {
  /** Follow a symlink at the path (templates and env files may be links); false: refuse one. */
  readonly follow: boolean;
  /** Open for writing as well (import overwrites the old bytes). */
  readonly write?: boolean;
  readonly maxBytes?: number;
}

export type OpenedClientFile =
  | { readonly ok: true; readonly handle: FileHandle; readonly size: number; readonly ino: number }
  | { readonly ok: false; readonly problem: string; readonly code: string | undefined; readonly cause?: unknown };

/** What a non-regular file is, in words. */
export function describeFileType(info: {
  isDirectory(): boolean;
  isFIFO(): boolean;
  isSocket(): boolean;
  isCharacterDevice(): boolean;
  isBlockDevice(): boolean;
  isSymbolicLink(): boolean;
}): string {
  if (info.isFIFO()) return 'a named pipe (FIFO)';
  if (info.isDirectory()) return 'a directory';
  if (info.isSocket()) return 'a socket';
  if (info.isCharacterDevice()) return 'a character device';
  if (info.isBlockDevice()) return 'a block device';
  if (info.isSymbolicLink()) return 'a symbolic link';
  return 'not a regular file';
}

const errnoOf = (error: unknown) => (error as NodeJS.ErrnoException | undefined)?.code;

function failed(error: unknown): OpenedClientFile {
  const code = errnoOf(error);
  const problem =
    code === 'ENOENT' || code === 'ENOTDIR'
      ? 'there is no such file'
      : code === 'ELOOP'
        ? 'it is a symbolic link, which is not followed here'
        : code === 'EACCES' || code === 'EPERM'
          ? `envmountd may not read it (${code})`
          : `it cannot be read (${code ?? 'error'})`;
  return { ok: false, problem, code, cause: error };
}

/** Opens a client-named regular file without blocking; the caller closes the handle. */
export async function openClientFile(path: string, options: ClientFileOptions): Promise<OpenedClientFile> {
  const maxBytes = options.maxBytes ?? CLIENT_FILE_MAX_BYTES;
  const notRegular = (info: Parameters<typeof describeFileType>[0]): OpenedClientFile => ({
    ok: false,
    problem: `it is ${describeFileType(info)}, not a regular file`,
    code: 'ENOTREG',
  });
  const tooLarge = (size: number): OpenedClientFile => ({
    ok: false,
    problem: `it is ${size} bytes, more than the ${maxBytes} envmount reads`,
    code: 'EFBIG',
  });
  try {
    const before = options.follow ? await stat(path) : await lstat(path);
    if (!before.isFile()) return notRegular(before);
    if (before.size > maxBytes) return tooLarge(before.size);
  } catch (error) {
    return failed(error);
  }
  const flags =
    (options.write ? constants.O_RDWR : constants.O_RDONLY) |
    constants.O_NONBLOCK |
    constants.O_NOCTTY |
    (options.follow ? 0 : constants.O_NOFOLLOW);
  let handle: FileHandle;
  try {
    handle = await open(path, flags);
  } catch (error) {
    return failed(error);
  }
  try {
    const info = await handle.stat();
    const problem = !info.isFile() ? notRegular(info) : info.size > maxBytes ? tooLarge(info.size) : undefined;
    if (problem) {
      await handle.close();
      return problem;
    }
    return { ok: true, handle, size: info.size, ino: info.ino };
  } catch (error) {
    await handle.close().catch(() => undefined);
    return failed(error);
  }
}

/** Reads a client-named file through `handle` (opened by openClientFile, `expectedSize` its size then); undefined past `maxBytes`. */
export async function readOpened(
  handle: FileHandle,
  maxBytes = CLIENT_FILE_MAX_BYTES,
  expectedSize = 0,
): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  const filled: Buffer[] = [];
  let length = 0;
  try {
    // The size fstat gave, plus one byte to see the end in one read; more only if the file grew.
    for (let size = Math.min(expectedSize, maxBytes) + 1; ; size = 64 * 1024) {
      const chunk = Buffer.alloc(size);
      chunks.push(chunk);
      const { bytesRead } = await handle.read(chunk, 0, chunk.length, length);
      if (bytesRead === 0) break;
      filled.push(chunk.subarray(0, bytesRead));
      length += bytesRead;
      if (length > maxBytes) return undefined; // it grew past the cap after the check
    }
    return Buffer.concat(filled, length);
  } finally {
    for (const chunk of chunks) chunk.fill(0);
  }
}

/** Reads a whole client-named regular file without blocking; a problem in words otherwise. */
export async function readClientFile(
  path: string,
  options: ClientFileOptions,
): Promise<{ readonly ok: true; readonly data: Buffer } | Extract<OpenedClientFile, { ok: false }>> {
  const opened = await openClientFile(path, options);
  if (!opened.ok) return opened;
  try {
    const maxBytes = options.maxBytes ?? CLIENT_FILE_MAX_BYTES;
    const data = await readOpened(opened.handle, maxBytes, opened.size);
    if (!data) return { ok: false, problem: `it grew past the ${maxBytes} bytes envmount reads`, code: 'EFBIG' };
    return { ok: true, data };
  } catch (error) {
    return failed(error) as Extract<OpenedClientFile, { ok: false }>;
  } finally {
    await opened.handle.close().catch(() => undefined);
  }
}
