/**
 * A reader whose main thread exited (`pthread_exit` in main; a worker thread reads .env): its /proc/PID/exe and
 * cmdline read as nothing. On the old code its exe was `?`, no deny rule matched, `--otherwise allow` served it the
 * values and the audit named `?`. Now it is described from a live thread, and the deny rule refuses it by name.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { chmodSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { killAll, run, TestDaemon, track, waitFor } from '../helpers/daemon.js';

const VALUE = 'zombie-canary-value-83f1';
let daemon: TestDaemon;
let program: string;

beforeAll(async () => {
  daemon = new TestDaemon();
  await daemon.start();
  expect((await daemon.cli(['set', 'TOKEN'], { input: VALUE })).code).toBe(0);
  program = join(daemon.root, 'zombie-leader');
  const built = await run('cc', ['-O1', '-pthread', '-o', program, join(import.meta.dirname, 'zombie-leader.c')]);
  expect(built.stderr).toBe('');
  chmodSync(program, 0o755);
});

afterAll(async () => {
  await killAll();
  await daemon?.dispose();
});

/** Runs the program on `path` until it exits (it gives up after 10 s); resolves with what it printed. */
function readAsZombieLeader(path: string): { child: ChildProcess; done: Promise<string> } {
  const child = track(spawn(program, [path], { stdio: ['ignore', 'pipe', 'pipe'] }));
  let out = '';
  child.stdout?.setEncoding('utf8').on('data', (d: string) => {
    out += d;
  });
  child.stderr?.setEncoding('utf8').on('data', (d: string) => {
    out += d;
  });
  return { child, done: new Promise((resolve) => child.once('close', () => resolve(out))) };
}

for (const rule of ['zombie-leader', 'exe:*/zombie-leader']) {
  it(`--deny ${rule} --otherwise allow refuses it, and the audit names its executable`, async () => {
    const dir = daemon.project(`zl-${rule.length}`, 'TOKEN=envmount://TOKEN\n');
    expect((await daemon.cli(['add', dir, '--deny', rule, '--otherwise', 'allow'])).code).toBe(0);
    const reader = readAsZombieLeader(join(dir, '.env'));
    try {
      const out = await reader.done;
      expect(out).not.toContain(VALUE);
      expect(out).toContain('envmount refused this read');
      const entry = await waitFor(async () => {
        const log = JSON.parse((await daemon.cli(['--json', 'log', dir])).stdout) as Array<{
          decision: string;
          reader?: { pid: number; exe: string };
        }>;
        return log.at(-1);
      });
      expect(entry).toMatchObject({ decision: 'denied', reader: { pid: reader.child.pid, exe: program } });
    } finally {
      reader.child.kill('SIGKILL');
    }
  });
}
