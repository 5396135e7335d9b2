/**
 * `envmount run` judges the command, not envmount's node, only when nothing ran in that node before envmount's
 * script (THREAT-MODEL.md, "envmount run judged on its command"). Before: node options that load code without
 * naming it were not seen: `--env-file=FILE` (node applies a NODE_OPTIONS line in FILE, which /proc/PID/environ
 * never shows), `--snapshot-blob` (a snapshot's main function runs instead of the script) and `--openssl-config`
 * (an OpenSSL config loads engines, shared objects). Code so loaded could send the daemon the command line's
 * command and receive its values. Now they count as code loaded before envmount, and the run is refused (the
 * options other than --env-file: test/core/run-command-line.test.ts).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { killAll, run, TestDaemon } from '../helpers/daemon.js';

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

it('envmount run under node --env-file carrying NODE_OPTIONS is refused', async () => {
  const dir = daemon.project('preloads', 'TOKEN=envmount://TOKEN\n');
  expect((await daemon.cli(['add', dir, '--allow', 'any', '--agents', 'rules'])).stderr).toBe('');
  writeFileSync(join(dir, 'preload.cjs'), '');
  writeFileSync(join(dir, 'evil.env'), `NODE_OPTIONS=--require ${join(dir, 'preload.cjs')}\n`);
  const cli = join(daemon.install, 'dist/bin/envmount.js');
  const command = ['run', '--', 'node', '-e', 'process.stdout.write(process.env.TOKEN ?? "none")'];
  // Without such an option the run serves (the mount allows any reader).
  const plain = await run(process.execPath, [cli, ...command], { cwd: dir, env: daemon.env });
  expect(plain.stdout).toBe('tok-value');
  for (const args of [['--env-file=evil.env'], ['--env-file', 'evil.env'], ['--env-file-if-exists=evil.env']]) {
    const option = args.join(' ');
    const result = await run(process.execPath, [...args, cli, ...command], { cwd: dir, env: daemon.env });
    expect({ option, out: result.stdout }).toEqual({ option, out: expect.not.stringContaining('tok-value') });
    expect(result.stderr).toContain('code loaded before it');
  }
});
