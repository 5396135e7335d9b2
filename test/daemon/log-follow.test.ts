/** `envmount log --follow` when envmountd stops: it says so and exits 3 (daemon not running), never hangs or 13. */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { killAll, run, TestDaemon, track, waitFor } from '../helpers/daemon.js';

let daemon: TestDaemon;

beforeAll(async () => {
  daemon = new TestDaemon();
  await daemon.start();
  await daemon.cli(['set', 'TOKEN'], { input: 'tok-value' });
});

afterAll(async () => {
  await killAll();
  await daemon?.dispose();
});

it('the daemon stops while log --follow runs: "envmountd closed the connection." and exit code 3', async () => {
  const dir = daemon.project('followed', 'TOKEN=envmount://TOKEN\n');
  expect((await daemon.cli(['add', dir, '--allow', 'any'])).code).toBe(0);
  expect((await run('cat', [join(dir, '.env')])).code).toBe(0);
  const follow = track(
    spawn(join(daemon.install, 'dist/bin/envmount.js'), ['log', '--follow'], {
      env: daemon.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    }),
  );
  let stdout = '';
  let stderr = '';
  follow.stdout?.setEncoding('utf8').on('data', (d: string) => {
    stdout += d;
  });
  follow.stderr?.setEncoding('utf8').on('data', (d: string) => {
    stderr += d;
  });
  const exited = new Promise<number | null>((done) => follow.on('close', (code) => done(code)));
  // It follows: the read above is printed.
  await waitFor(() => (stdout.includes(join(dir, '.env')) ? true : undefined));
  await daemon.stop();
  expect(await exited).toBe(3);
  expect(stderr).toContain('envmountd closed the connection.');
});
