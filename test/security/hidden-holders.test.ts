/**
 * Issue 14, class 4: a thread that called unshare(CLONE_FILES) holds its descriptors in a table only
 * /proc/PID/task/TID/fd shows. The holder scan must see it: in the native scan, and in a decided read, where such a
 * holder is identified (and refused by the rule that applies to it) rather than passing unseen.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fifoHolders, mkfifo } from '../../src/native/index.js';
import { killAll, run, TestDaemon, track, waitFor } from '../helpers/daemon.js';

const HERE = import.meta.dirname;
let daemon: TestDaemon;
let program: string;

beforeAll(async () => {
  daemon = new TestDaemon();
  await daemon.start();
  expect((await daemon.cli(['set', 'TOKEN'], { input: 'hidden-canary-value' })).code).toBe(0);
  program = join(daemon.root, 'hidden-holder');
  const built = await run('cc', ['-O2', '-pthread', '-o', program, join(HERE, 'hidden-holder.c')]);
  expect(built.stderr).toBe('');
  chmodSync(program, 0o755);
});

afterAll(async () => {
  await killAll();
  await daemon?.dispose();
});

/** Starts the hidden holder on `path`; resolves with it and the pid, tid and fd it reports. */
async function hide(path: string): Promise<{ child: ChildProcess; pid: number; tid: number; fd: number }> {
  const child = track(spawn(program, [path], { stdio: ['ignore', 'pipe', 'pipe'] }));
  let out = '';
  let errors = '';
  child.stdout?.setEncoding('utf8').on('data', (d: string) => {
    out += d;
  });
  child.stderr?.setEncoding('utf8').on('data', (d: string) => {
    errors += d;
  });
  const line = await waitFor(() => {
    if (errors !== '') throw new Error(`the hidden holder failed: ${errors}`);
    return out.split('\n').find((l) => l.startsWith('ready '));
  });
  const [pid = 0, tid = 0, fd = 0] = line.split(' ').slice(1).map(Number);
  return { child, pid, tid, fd };
}

describe('a thread with an fd table of its own', () => {
  it('is found by the holder scan', async () => {
    const dir = mkdtempSync('/tmp/emt-hidden-');
    const fifo = join(dir, 'pipe');
    try {
      mkfifo(fifo);
      const hidden = await hide(fifo);
      try {
        expect(hidden.tid).not.toBe(hidden.pid);
        expect(fifoHolders(fifo)).toContainEqual({ pid: hidden.pid, fd: hidden.fd, mode: 'r' });
      } finally {
        hidden.child.kill('SIGKILL');
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('reading a rule mount is identified and refused by its rule, not passed over as unidentified', async () => {
    const dir = daemon.project('hidden', 'TOKEN=envmount://TOKEN\n');
    expect((await daemon.cli(['add', dir, '--allow', 'node', '--otherwise', 'deny'])).code).toBe(0);
    const hidden = await hide(join(dir, '.env'));
    try {
      const entry = await waitFor(async () => {
        const log = JSON.parse((await daemon.cli(['--json', 'log', dir])).stdout) as Array<{
          decision: string;
          outcome?: string;
          reader?: { pid: number; exe: string };
        }>;
        return log.at(-1);
      });
      expect(entry).toMatchObject({
        decision: 'denied',
        outcome: 'refused',
        reader: { pid: hidden.pid, exe: program },
      });
    } finally {
      hidden.child.kill('SIGKILL');
    }
  });
});
