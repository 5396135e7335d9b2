/**
 * Nothing is written to disk in plaintext: after a full session (set, add, 100 reads, stop) the canary value is in
 * no file under home, config, state, data, runtime, the project or tmp, and not in the daemon's log.
 */
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { MASK } from '../../src/core/masker.js';
import { filesContaining } from '../helpers/canary.js';
import { killAll, node, run, TestDaemon } from '../helpers/daemon.js';

let daemon: TestDaemon | undefined;

afterAll(async () => {
  await killAll();
  await daemon?.dispose();
});

it('leaves no plaintext value on disk or in logs after a full session', async () => {
  const canary = `canary-${randomBytes(12).toString('hex')}`;
  daemon = new TestDaemon();
  await daemon.start();
  expect((await daemon.cli(['set', 'CANARY'], { input: canary })).code).toBe(0);
  const dir = daemon.project('app', 'SECRET=envmount://CANARY\nWRAPPED="pre-{{ envmount://CANARY }}-post"\n');
  expect((await daemon.cli(['add', dir, '--allow', 'node', '--deny', 'cat'])).code).toBe(0);
  // A refused reader too: the comment lines it gets name the process, never a value.
  expect((await run('cat', [join(dir, '.env')])).stdout).not.toContain(canary);
  // The canary reaches the reader through its environment: its argv is audited (as the command line of a reader).
  const reads = await node(
    `const fs=require('fs');let n=0;for(let i=0;i<100;i++){if(fs.readFileSync(${JSON.stringify(join(dir, '.env'))},'utf8').includes(process.env.CANARY))n++}
     process.stdout.write(String(n))`,
    { env: { ...daemon.env, CANARY: canary } },
  );
  expect(reads.stdout).toBe('100');
  // `envmount run`: the values reach the child's environment; its output is masked, the composite value around it kept.
  const ran = await daemon.cli(
    ['run', '--mask', '--', 'node', '-e', 'console.log(process.env.SECRET, process.env.WRAPPED)'],
    {
      cwd: dir,
    },
  );
  expect(ran.stdout).toBe(`${MASK} pre-${MASK}-post\n`);
  // Everything a user might run that prints state, too.
  for (const args of [['status'], ['--json', 'status'], ['list'], ['vars'], ['log'], ['--json', 'log']]) {
    const out = await daemon.cli(args);
    expect(out.stdout + out.stderr).not.toContain(canary);
  }
  expect(await daemon.stop()).toBe(0);
  const logFile = join(daemon.root, 'envmountd.log');
  writeFileSync(logFile, daemon.log);
  expect(daemon.log).toContain('"msg":"reader"');
  // Positive control: the search does find a marker that is on disk.
  const marker = `marker-${randomBytes(8).toString('hex')}`;
  writeFileSync(join(daemon.root, 'marker.txt'), marker);
  expect(filesContaining([daemon.root], [Buffer.from(marker)])).toEqual([join(daemon.root, 'marker.txt')]);
  const needles = [Buffer.from(canary), Buffer.from(Buffer.from(canary).toString('base64'))];
  expect(filesContaining([daemon.root, tmpdir(), dir], needles)).toEqual([]);
});
