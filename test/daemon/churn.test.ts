/**
 * Native lifetimes under churn, with a real daemon and real readers: mounts added and removed give back every
 * descriptor when they stop (not when V8 collects their handles); readers in a burst, readers that never read or
 * are killed mid-read, a remove or a SIGTERM while reads and decisions are in flight all end, and the daemon with
 * them. The sanitizer tier (scripts/sanitize.sh) runs this file with the addon built with ASan and UBSan.
 */
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { killAll, run, startReader, TestDaemon, UNDER_ASAN, waitFor } from '../helpers/daemon.js';

const disposables: TestDaemon[] = [];
afterEach(async () => {
  await killAll();
  for (const d of disposables.splice(0)) await d.dispose();
});

async function started(env: NodeJS.ProcessEnv = {}): Promise<TestDaemon> {
  const d = new TestDaemon();
  disposables.push(d);
  await d.start(env);
  expect((await d.cli(['set', 'TOKEN'], { input: 'tok-value' })).code).toBe(0);
  return d;
}

/** `count` readers of a mount that asks, started one at a time (two at the same instant would share one pipe and
 * be refused together), each pending before the next starts. */
async function askingReaders(d: TestDaemon, dir: string, count: number) {
  const readers = [];
  for (let i = 1; i <= count; i++) {
    readers.push(startReader('cat', [join(dir, '.env')]));
    await waitFor(async () => JSON.parse((await d.cli(['--json', 'approvals'])).stdout).length === i);
  }
  return readers;
}

const descriptors = (pid: number) => readdirSync(`/proc/${pid}/fd`).length;
/** What each descriptor is (`readlink`), for a failure to name what was left open. */
const openFiles = (pid: number) =>
  readdirSync(`/proc/${pid}/fd`).map((fd) => {
    try {
      return `${fd} ${readlinkSync(`/proc/${pid}/fd/${fd}`)}`;
    } catch {
      return `${fd} (gone)`;
    }
  });

describe('churn', () => {
  it('200 mounts added and removed (100 at a time) return the daemon to its descriptor count', async () => {
    const d = await started();
    const pid = d.process?.pid ?? 0;
    // The sanitizer tier's daemons run its build: libasan is in the daemon, not only in the test process.
    expect(readFileSync(`/proc/${pid}/maps`, 'utf8').includes('libasan')).toBe(UNDER_ASAN);
    const client = await d.client();
    try {
      const dirs = Array.from({ length: 100 }, (_, i) => d.project(`m${i}`, `TOKEN=envmount://TOKEN\nI=${i}\n`));
      // One mount first: what a daemon opens once (the watcher's inotify instance) is not churn.
      await client.request('add', { dir: dirs[0] ?? '', allow: ['any'] });
      expect((await run('cat', [join(dirs[0] ?? '', '.env')])).stdout).toContain("I='0'");
      await client.request('remove', { path: dirs[0] ?? '' });
      const before = descriptors(pid);
      const beforeFiles = openFiles(pid);
      for (let round = 0; round < 2; round++) {
        for (const dir of dirs) await client.request('add', { dir, allow: ['any'] });
        // Some reads, so that the mounts rotate their FIFOs and hand content to writers.
        const reads = await Promise.all(dirs.slice(0, 10).map((dir) => run('cat', [join(dir, '.env')])));
        expect(reads.map((r) => r.stdout)).toEqual(dirs.slice(0, 10).map((_, i) => `TOKEN='tok-value'\nI='${i}'\n`));
        expect(descriptors(pid)).toBeGreaterThanOrEqual(before + 100);
        for (const dir of dirs) await client.request('remove', { path: dir });
        // A writer or share thread (serve.c, share.c) may still be finishing a read after `remove` answers: it
        // holds its pipe's two descriptors until it ends. A leak never comes back down; that is what is asserted.
        await waitFor(() => descriptors(pid) === before || undefined, 10_000).catch(() => undefined);
        const after = openFiles(pid);
        expect({ round, descriptors: after.length, new: after.filter((f) => !beforeFiles.includes(f)) }).toEqual({
          round,
          descriptors: before,
          new: [],
        });
      }
    } finally {
      client.close();
    }
  });

  it('32 readers at once: each gets one whole copy or, in the instant of a rotation, an empty read (README)', async () => {
    const d = await started();
    const dir = d.project('burst', 'TOKEN=envmount://TOKEN\n');
    expect((await d.cli(['add', dir, '--allow', 'any', '--agents', 'rules'])).code).toBe(0);
    const reads = await Promise.all(Array.from({ length: 32 }, () => run('cat', [join(dir, '.env')])));
    expect(reads.map((r) => r.code)).toEqual(Array(32).fill(0));
    for (const r of reads) expect(['', "TOKEN='tok-value'\n"]).toContain(r.stdout);
    expect(reads.filter((r) => r.stdout !== '').length).toBeGreaterThan(0);
  });

  it('readers that never read or are killed mid-read stall nothing; the next reader gets everything', async () => {
    const d = await started({ ENVMOUNT_WRITE_TIMEOUT_MS: '1000' });
    const big = 'b'.repeat(512 * 1024);
    expect((await d.cli(['set', 'BIG', '--raw'], { input: big })).code).toBe(0);
    const dir = d.project('big', 'BIG=envmount://BIG\n');
    expect((await d.cli(['add', dir, '--allow', 'any', '--agents', 'rules'])).code).toBe(0);
    const path = JSON.stringify(join(dir, '.env'));
    // Openers that never read (they outlive the write deadline), and readers that take one chunk and are killed.
    const stalled = Array.from({ length: 3 }, () =>
      startReader(process.execPath, [
        '-e',
        `require('fs').openSync(${path},'r');console.log('open');setTimeout(()=>{},2000)`,
      ]),
    );
    const killed = Array.from({ length: 3 }, () =>
      startReader(process.execPath, [
        '-e',
        `const fs=require('fs');const fd=fs.openSync(${path},'r');fs.readSync(fd,Buffer.alloc(4096));console.log('read');setTimeout(()=>{},10000)`,
      ]),
    );
    await Promise.all(
      [...stalled, ...killed].map((r) => new Promise((resolve) => r.child.stdout?.once('data', resolve))),
    );
    for (const r of killed) r.child.kill('SIGKILL');
    const full = await run('cat', [join(dir, '.env')]);
    expect(full.stdout.length).toBe(`BIG='${big}'\n`.length);
    await Promise.all([...stalled, ...killed].map((r) => r.done));
    // The daemon gave up on the stalled ones and still serves.
    expect((await run('cat', [join(dir, '.env')])).stdout.length).toBe(full.stdout.length);
  });

  it('remove while writers and decisions are in flight: every reader ends, the daemon keeps serving', async () => {
    const d = await started({ ENVMOUNT_WRITE_TIMEOUT_MS: '3000' });
    const { big, served, asking, other, stalled, slow, waiting } = await inFlight(d);
    expect((await d.cli(['remove', served])).code).toBe(0);
    expect((await d.cli(['remove', asking])).code).toBe(0);
    // The writer thread owns its pipe past the remove: the slow reader still gets every byte.
    expect((await slow.done).length).toBe(`BIG='${big}'\n`.length);
    for (const r of waiting) expect(await r.done).not.toContain('tok-value');
    await Promise.all(stalled.map((r) => r.done));
    expect((await run('cat', [join(other, '.env')])).stdout).toBe("TOKEN='tok-value'\n");
  });

  it('SIGTERM while writers and decisions are in flight: the daemon exits 0 and every reader ends', async () => {
    const d = await started({ ENVMOUNT_WRITE_TIMEOUT_MS: '3000' });
    const { stalled, slow, waiting } = await inFlight(d);
    expect(await d.stop('SIGTERM')).toBe(0);
    for (const r of [...waiting, slow]) expect(await r.done).not.toContain('tok-value');
    await Promise.all(stalled.map((r) => r.done));
  });
});

/** A mount serving 512 KiB to two openers that never read and one that reads late (writer threads), a mount
 * whose two readers wait for an approval (tickets held), and a third mount. */
async function inFlight(d: TestDaemon) {
  const big = 'b'.repeat(512 * 1024);
  expect((await d.cli(['set', 'BIG', '--raw'], { input: big })).code).toBe(0);
  const served = d.project('served', 'BIG=envmount://BIG\n');
  const asking = d.project('asking', 'TOKEN=envmount://TOKEN\n');
  const other = d.project('other', 'TOKEN=envmount://TOKEN\n');
  for (const dir of [served, other])
    expect((await d.cli(['add', dir, '--allow', 'any', '--agents', 'rules'])).code).toBe(0);
  expect((await d.cli(['add', asking])).code).toBe(0);
  const waiting = await askingReaders(d, asking, 2);
  const path = JSON.stringify(join(served, '.env'));
  const stalled = Array.from({ length: 2 }, () =>
    startReader(process.execPath, [
      '-e',
      `require('fs').openSync(${path},'r');console.log('open');setTimeout(()=>{},4000)`,
    ]),
  );
  await Promise.all(stalled.map((r) => new Promise((resolve) => r.child.stdout?.once('data', resolve))));
  const slow = startReader(process.execPath, [
    '-e',
    `const fs=require('fs');const fd=fs.openSync(${path},'r');process.stderr.write('open');setTimeout(()=>process.stdout.write(fs.readFileSync(fd)),500)`,
  ]);
  await new Promise((resolve) => slow.child.stderr?.once('data', resolve));
  return { big, served, asking, other, stalled, slow, waiting };
}
