/**
 * Idle mounts cost nothing: 300 mounts waiting for readers each sleep in open() on a thread of their own (no libuv
 * pool thread held: an unrelated readFile and a status request still answer; no polling), and a reader that never
 * reads stalls no other mount. How fast, and the idle CPU, are measured by `npm run bench` (scale), not asserted.
 */
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { ControlClient } from '../../src/control/client.js';
import { killAll, node, TestDaemon, track, waitFor } from '../helpers/daemon.js';
import { startInProcess } from '../helpers/in-process.js';

const MOUNTS = 300;
const disposables: TestDaemon[] = [];

afterAll(async () => {
  await killAll();
  for (const d of disposables) await d.dispose();
});

async function addMounts(client: ControlClient, d: TestDaemon, count: number): Promise<string[]> {
  const dirs: string[] = [];
  for (let i = 0; i < count; i++) dirs.push(d.project(`m${i}`, `N=envmount://TOKEN\nI=${i}\n`));
  for (const dir of dirs) await client.request('add', { dir, allow: ['any'] });
  return dirs;
}

/** Threads of a process sleeping in a FIFO open (the kernel's wait_for_partner): a mount waiting for a reader. */
function threadsInFifoOpen(pid: number | 'self'): number {
  let count = 0;
  for (const task of readdirSync(`/proc/${pid}/task`)) {
    try {
      if (readFileSync(`/proc/${pid}/task/${task}/wchan`, 'utf8') === 'wait_for_partner') count++;
    } catch {} // a thread that ended meanwhile
  }
  return count;
}

describe(`${MOUNTS} waiting mounts`, () => {
  it('each sleep in open() on its own thread; the thread pool stays free for readFile and status', async () => {
    const d = new TestDaemon();
    disposables.push(d);
    const { daemon, client } = await startInProcess(d);
    try {
      await client.request('set', { name: 'TOKEN', valueBase64: Buffer.from('v').toString('base64') });
      await addMounts(client, d, MOUNTS);
      // Every mount waits in the kernel, not in a poll loop, and not on one of libuv's 4 pool threads.
      await waitFor(() => threadsInFifoOpen('self') >= MOUNTS);
      const file = join(d.root, 'unrelated.txt');
      writeFileSync(file, 'x'.repeat(4096));
      // More reads at once than the pool has threads (4): with the pool held by mounts they would never finish.
      const reads = await Promise.all(Array.from({ length: 8 }, () => readFile(file)));
      expect(reads.map((r) => r.length)).toEqual(Array(8).fill(4096));
      const status = await client.request('status', {});
      expect(status.mounts).toHaveLength(MOUNTS);
      expect(status.mounts.every((m) => m.state === 'serving')).toBe(true);
    } finally {
      client.close();
      await daemon.stop();
    }
  });

  it('a real daemon process: every mount thread sleeps in open() while idle', async () => {
    const d = new TestDaemon();
    disposables.push(d);
    await d.start({ ENVMOUNT_LOG_LEVEL: 'info' });
    const client = await d.client();
    try {
      await client.request('set', { name: 'TOKEN', valueBase64: Buffer.from('v').toString('base64') });
      await addMounts(client, d, MOUNTS);
    } finally {
      client.close();
    }
    await waitFor(() => threadsInFifoOpen(d.process?.pid ?? 0) >= MOUNTS);
  });

  it('a reader that opens and never reads 256 KiB does not hold up another mount', async () => {
    const d = new TestDaemon();
    disposables.push(d);
    await d.start({ ENVMOUNT_WRITE_TIMEOUT_MS: '60000' });
    await d.cli(['set', 'BIG', '--raw'], { input: 'b'.repeat(256 * 1024) });
    await d.cli(['set', 'SMALL'], { input: 'small' });
    const big = d.project('big', 'BIG=envmount://BIG\n');
    const small = d.project('small', 'SMALL=envmount://SMALL\n');
    await d.cli(['add', big, '--allow', 'any']);
    await d.cli(['add', small, '--allow', 'any']);
    // The stalled reader: opens the big mount, never reads, holds it open until killed; says so once open() returned.
    const staller = track(
      spawn(
        process.execPath,
        [
          '-e',
          `require('fs').openSync(${JSON.stringify(join(big, '.env'))},'r');process.stdout.write('open');setInterval(()=>{},1000)`,
        ],
        { stdio: ['ignore', 'pipe', 'inherit'] },
      ),
    );
    await new Promise<void>((resolve) => staller.stdout?.once('data', () => resolve()));
    const stallerGone = new Promise((resolve) => staller.once('exit', resolve));
    // The big mount's write is still pending (the deadline is a minute away) while the small one serves.
    const read = await node(`process.stdout.write(require('fs').readFileSync(${JSON.stringify(join(small, '.env'))}))`);
    expect(read.stdout).toBe("SMALL='small'\n");
    expect(staller.exitCode).toBeNull();
    // The big mount itself serves the next reader in full once the staller is gone.
    staller.kill('SIGKILL');
    await stallerGone;
    const next = await node(
      `process.stdout.write(String(require('fs').readFileSync(${JSON.stringify(join(big, '.env'))}).length))`,
    );
    expect(Number(next.stdout)).toBe(256 * 1024 + "BIG=''\n".length);
  });
});
