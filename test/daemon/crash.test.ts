/**
 * After a crash: `envmountd cleanup` (the unit's ExecStopPost) lets readers already waiting on the dead daemon's
 * pipes go with a comment, removes the pipes (new readers fail at once instead of hanging), leaves no rotation
 * name behind, and touches nothing while a daemon runs. The next daemon puts every mount back.
 */
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { blockedInFifoOpen, DAEMON, killAll, run, TestDaemon, track, waitFor } from '../helpers/daemon.js';

let daemon: TestDaemon | undefined;

afterAll(async () => {
  await killAll();
  await daemon?.dispose();
});

const cleanup = (d: TestDaemon) => run(DAEMON, ['cleanup'], { env: d.env });

it('kill -9, then cleanup: waiting readers end, pipes go; the next daemon serves every mount', async () => {
  daemon = new TestDaemon();
  await daemon.start();
  const d = daemon;
  expect((await d.cli(['set', 'TOKEN'], { input: 'crash-value-1' })).code).toBe(0);
  const dirs = ['a', 'b', 'c'].map((name) => d.project(name, 'TOKEN=envmount://TOKEN\n'));
  for (const dir of dirs) expect((await d.cli(['add', dir, '--allow', 'any'])).code).toBe(0);
  // With a daemon running, cleanup leaves everything alone.
  expect((await cleanup(d)).code).toBe(0);
  for (const dir of dirs) expect(statSync(join(dir, '.env')).isFIFO()).toBe(true);

  await d.stop('SIGKILL');
  // Readers that come while it is dead wait in open() on the pipes left behind: five across three mounts.
  const readers = [0, 0, 1, 1, 2].map((i) => {
    const child = track(spawn('cat', [join(dirs[i] ?? '', '.env')], { stdio: ['ignore', 'pipe', 'ignore'] }));
    let out = '';
    child.stdout?.setEncoding('utf8').on('data', (s: string) => {
      out += s;
    });
    return { child, done: new Promise<string>((resolve) => child.on('close', () => resolve(out))) };
  });
  for (const reader of readers) await blockedInFifoOpen(reader.child.pid ?? 0);

  expect((await cleanup(d)).code).toBe(0);
  const outputs = await Promise.all(readers.map((r) => r.done));
  // Readers queued on one pipe share it: one of them gets the comment, the others end with nothing. None hangs.
  for (const i of [0, 1, 2]) {
    const mine = outputs.filter((_, k) => [0, 0, 1, 1, 2][k] === i).join('');
    expect(mine.match(/envmountd is not running/g)).toHaveLength(1);
  }
  for (const output of outputs) expect(output).not.toContain('crash-value-1');
  for (const dir of dirs) expect(readdirSync(dir).sort()).toEqual(['.env.op']);
  // A new reader fails at once instead of hanging.
  const late = await run('cat', [join(dirs[0] ?? '', '.env')], { timeoutMs: 5000 });
  expect(late.stderr).toContain('No such file or directory');

  // The next daemon puts every mount back.
  const started = Date.now();
  await d.start();
  await waitFor(() => dirs.every((dir) => existsSync(join(dir, '.env'))), 1000);
  expect(Date.now() - started).toBeLessThan(5000);
  for (const dir of dirs) expect((await run('cat', [join(dir, '.env')])).stdout).toBe("TOKEN='crash-value-1'\n");
});
