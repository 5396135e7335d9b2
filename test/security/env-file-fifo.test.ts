/**
 * Issue 14, class 9: a path a client names is never opened in a way that can block the daemon. Five `envmount run
 * --env-file FIFO` at once each get a clear error naming the file and what is there, and the daemon still answers
 * requests that touch the disk (`status`, `add`). The same for a template that is a FIFO, and for an env file that
 * is a directory or too large. On the old code the runs hung until killed (the daemon read the FIFO on the libuv
 * pool) and the `add` after them hung too.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { mkfifo } from '../../src/native/index.js';
import { killAll, TestDaemon } from '../helpers/daemon.js';

let daemon: TestDaemon;

beforeAll(async () => {
  daemon = new TestDaemon();
  await daemon.start();
});

afterAll(async () => {
  await killAll();
  await daemon.dispose();
});

it('five runs with a FIFO as --env-file each get a clear error; status and add still answer', async () => {
  const dir = daemon.project('fifo-run');
  const fifo = join(dir, 'vars.env');
  mkfifo(fifo, 0o600);
  // Each run is killed after 15 s if it hangs (the old behaviour); a refusal takes well under that.
  const runs = await Promise.all(
    Array.from({ length: 5 }, () =>
      daemon.cli(['run', '--env-file', fifo, '--', 'true'], { cwd: dir, timeoutMs: 15_000 }),
    ),
  );
  for (const result of runs) {
    expect(result.signal).toBeNull();
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(
      `envmount: Cannot use the env file "${fifo}": it is a named pipe (FIFO), not a regular file. Check the --env-file path.\n`,
    );
  }
  const status = await daemon.cli(['status'], { timeoutMs: 15_000 });
  expect(status.code).toBe(0);
  expect((await daemon.cli(['set', 'K'], { input: 'v', timeoutMs: 15_000 })).code).toBe(0);
  const other = daemon.project('after', 'K=envmount://K\n');
  const added = await daemon.cli(['add', other, '--allow', 'any'], { timeoutMs: 15_000 });
  expect(added.stderr).toBe('');
  expect(added.code).toBe(0);
});

it('a FIFO as the template is refused at add, naming it; the daemon still answers', async () => {
  const dir = daemon.project('fifo-template');
  mkfifo(join(dir, '.env.op'), 0o600);
  const added = await daemon.cli(['add', dir], { timeoutMs: 15_000 });
  expect(added.signal).toBeNull();
  expect(added.code).not.toBe(0);
  expect(added.stderr).toContain(
    `Cannot read the template "${join(dir, '.env.op')}": it is a named pipe (FIFO), not a regular file.`,
  );
  expect((await daemon.cli(['status'], { timeoutMs: 15_000 })).code).toBe(0);
});

it('a directory or a file over 1 MiB as --env-file is refused, naming it', async () => {
  const dir = daemon.project('odd-files');
  const sub = join(dir, 'sub');
  mkdirSync(sub);
  const big = join(dir, 'big.env');
  writeFileSync(big, `A=${'x'.repeat(1024 * 1024)}\n`);
  const asDir = await daemon.cli(['run', '--env-file', sub, '--', 'true'], { cwd: dir, timeoutMs: 15_000 });
  expect(asDir.stderr).toContain(`Cannot use the env file "${sub}": it is a directory, not a regular file.`);
  const asBig = await daemon.cli(['run', '--env-file', big, '--', 'true'], { cwd: dir, timeoutMs: 15_000 });
  expect(asBig.stderr).toContain(`Cannot use the env file "${big}": it is 1048579 bytes, more than the 1048576`);
});
