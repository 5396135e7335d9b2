// The cold path: from spawning envmountd (one mount in its registry) to the first byte a reader gets, from a
// template edit to the first reader that sees it, and crash recovery: from spawning a new daemon after a kill -9 to
// the end of a read that was waiting on the pipe the dead one left.
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { startSandbox } from '../scripts/sandbox.mjs';

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

export async function coldPath({ rounds }) {
  const sandbox = await startSandbox('emb-cold');
  try {
    const dir = join(sandbox.tmp, 'project');
    mkdirSync(dir);
    writeFileSync(join(dir, '.env.op'), 'MARK=0\n');
    sandbox.envmount(['add', dir, '--allow', 'any', '--agents', 'rules']);
    const env = join(dir, '.env');

    const firstByte = [];
    for (let i = 0; i < rounds; i++) {
      await sandbox.stop();
      const t0 = performance.now();
      const started = sandbox.restart();
      while (!statSync(env, { throwIfNoEntry: false })?.isFIFO()) await sleep(1);
      if (readFileSync(env).length === 0) throw new Error('empty first read');
      firstByte.push(performance.now() - t0);
      await started;
    }

    const edit = [];
    for (let i = 1; i <= rounds; i++) {
      const t0 = performance.now();
      writeFileSync(join(dir, '.env.op'), `MARK=${i}\n`);
      while (!readFileSync(env, 'utf8').includes(`MARK='${i}'`)) await sleep(1);
      edit.push(performance.now() - t0);
    }
    const crash = [];
    for (let i = 0; i < rounds; i++) {
      await sandbox.stop('SIGKILL');
      const reader = spawn('cat', [env], { stdio: ['ignore', 'ignore', 'inherit'] });
      const served = new Promise((done) => reader.once('exit', () => done(performance.now())));
      // Waiting in open() on the pipe left behind (the kernel's wait_for_partner).
      while (readFileSync(`/proc/${reader.pid}/wchan`, 'utf8') !== 'wait_for_partner') await sleep(1);
      const t0 = performance.now();
      const started = sandbox.restart();
      crash.push((await served) - t0);
      await started;
    }

    return {
      crash_to_waiting_reader_served_ms: Math.round(median(crash)),
      start_to_first_byte_ms: Math.round(median(firstByte)),
      template_edit_to_reader_ms: Math.round(median(edit)),
      rounds,
    };
  } finally {
    await sandbox.stop().catch(() => undefined);
    sandbox.remove();
  }
}
