/** Opening client-named files: never blocks, refuses what is not a regular file or is too large, in words. */
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { openClientFile, readClientFile } from '../../src/io/client-file.js';
import { mkfifo } from '../../src/native/index.js';

const dir = mkdtempSync(join(tmpdir(), 'envmount-client-file-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

it('reads a regular file, through a symlink when asked to follow', async () => {
  writeFileSync(join(dir, 'a.env'), 'A=1\n');
  symlinkSync(join(dir, 'a.env'), join(dir, 'link.env'));
  const read = await readClientFile(join(dir, 'link.env'), { follow: true });
  expect(read.ok && read.data.toString()).toBe('A=1\n');
  expect(await readClientFile(join(dir, 'link.env'), { follow: false })).toMatchObject({
    ok: false,
    problem: 'it is a symbolic link, not a regular file',
  });
});

it('refuses a FIFO without opening it (no writer: an open would block), a directory, a missing file', async () => {
  mkfifo(join(dir, 'fifo'), 0o600);
  mkdirSync(join(dir, 'sub'));
  expect(await readClientFile(join(dir, 'fifo'), { follow: true })).toMatchObject({
    ok: false,
    code: 'ENOTREG',
    problem: 'it is a named pipe (FIFO), not a regular file',
  });
  expect(await readClientFile(join(dir, 'sub'), { follow: true })).toMatchObject({
    problem: 'it is a directory, not a regular file',
  });
  expect(await readClientFile(join(dir, 'none'), { follow: true })).toMatchObject({
    code: 'ENOENT',
    problem: 'there is no such file',
  });
});

it('caps the size, and hands back a writable descriptor for import', async () => {
  writeFileSync(join(dir, 'big'), Buffer.alloc(2048, 0x41));
  expect(await readClientFile(join(dir, 'big'), { follow: true, maxBytes: 1024 })).toMatchObject({
    code: 'EFBIG',
    problem: 'it is 2048 bytes, more than the 1024 envmount reads',
  });
  const opened = await openClientFile(join(dir, 'big'), { follow: false, write: true });
  expect(opened.ok).toBe(true);
  if (opened.ok) {
    await opened.handle.write(Buffer.from('B'), 0, 1, 0);
    await opened.handle.close();
  }
});
