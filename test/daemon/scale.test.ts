/**
 * Idle mounts cost nothing: 300 mounts waiting for readers hold no libuv pool thread (an unrelated readFile and a
 * status request still answer fast) and no CPU; a reader that never reads stalls no other mount.
 */
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { ControlClient } from '../../src/control/client.js';
import { killAll, node, TestDaemon, track } from '../helpers/daemon.js';
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

function cpuTicks(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
  return Number(fields[11]) + Number(fields[12]); // utime + stime, in clock ticks (1/100 s)
}

describe(`${MOUNTS} waiting mounts`, () => {
  it('leave the thread pool free: an unrelated readFile and a status request answer within 50 ms', async () => {
    const d = new TestDaemon();
    disposables.push(d);
    const { daemon, client } = await startInProcess(d);
    try {
      await client.request('set', { name: 'TOKEN', valueBase64: Buffer.from('v').toString('base64') });
      await addMounts(client, d, MOUNTS);
      const file = join(d.root, 'unrelated.txt');
      writeFileSync(file, 'x'.repeat(4096));
      // More reads at once than the pool has threads (4): all must finish promptly.
      const t0 = performance.now();
      await Promise.all(Array.from({ length: 8 }, () => readFile(file)));
      const readMs = performance.now() - t0;
      const t1 = performance.now();
      const status = await client.request('status', {});
      const statusMs = performance.now() - t1;
      expect(status.mounts).toHaveLength(MOUNTS);
      expect(status.mounts.every((m) => m.state === 'serving')).toBe(true);
      expect(readMs).toBeLessThan(50);
      expect(statusMs).toBeLessThan(50);
    } finally {
      client.close();
      await daemon.stop();
    }
  });

  it('use under 1% of a core while idle (a real daemon process, 5 s, its healer looking at every path twice a second)', async () => {
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
    const pid = d.process?.pid ?? 0;
    // Idle means after the adds: the template watchers' own setup runs for a moment after each add returns.
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const before = cpuTicks(pid);
    const t0 = performance.now();
    // 5 s: 1% of a core is 5 clock ticks, enough to tell it from the tick resolution.
    await new Promise((resolve) => setTimeout(resolve, 5000));
    const seconds = (performance.now() - t0) / 1000;
    const coreShare = (cpuTicks(pid) - before) / 100 / seconds;
    expect(coreShare).toBeLessThan(0.01);
  });

  it('a reader that opens and never reads 256 KiB delays another mount by at most 100 ms', async () => {
    const d = new TestDaemon();
    disposables.push(d);
    await d.start({ ENVMOUNT_WRITE_TIMEOUT_MS: '2000' });
    await d.cli(['set', 'BIG', '--raw'], { input: 'b'.repeat(256 * 1024) });
    await d.cli(['set', 'SMALL'], { input: 'small' });
    const big = d.project('big', 'BIG=envmount://BIG\n');
    const small = d.project('small', 'SMALL=envmount://SMALL\n');
    await d.cli(['add', big, '--allow', 'any']);
    await d.cli(['add', small, '--allow', 'any']);
    // The stalled reader: opens the big mount, never reads, holds it open; says so once open() returned.
    const staller = track(
      spawn(
        process.execPath,
        [
          '-e',
          `require('fs').openSync(${JSON.stringify(join(big, '.env'))},'r');process.stdout.write('open');setTimeout(()=>{},3000)`,
        ],
        {
          stdio: ['ignore', 'pipe', 'inherit'],
        },
      ),
    );
    await new Promise<void>((resolve) => staller.stdout?.once('data', () => resolve()));
    const stallerGone = new Promise((resolve) => staller.once('exit', resolve));
    const timed = await node(
      `const fs=require('fs');const t=process.hrtime.bigint();const s=fs.readFileSync(${JSON.stringify(join(small, '.env'))},'utf8');
       process.stdout.write(JSON.stringify({ms:Number(process.hrtime.bigint()-t)/1e6,s}))`,
    );
    const { ms, s } = JSON.parse(timed.stdout);
    expect(s).toBe("SMALL='small'\n");
    expect(ms).toBeLessThan(100);
    // The big mount itself is free again for the next reader once the staller is gone or the deadline passed.
    await stallerGone;
    const next = await node(
      `process.stdout.write(String(require('fs').readFileSync(${JSON.stringify(join(big, '.env'))}).length))`,
    );
    expect(Number(next.stdout)).toBe(256 * 1024 + "BIG=''\n".length);
  });
});
