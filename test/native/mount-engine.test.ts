/**
 * The native mount engine on its own (native/mount.c and the files it drives), through src/native/index.ts on temp
 * FIFOs, no daemon: a mount serves every reader its own pipe (policy any), hands readers to JS as tickets (decide)
 * that are finished with values or with a refusal, switches mode and content while it waits, and stops with a
 * `stopped` event, leaving its FIFO and nothing else. At the end no reader and no engine thread is left waiting.
 * The sanitizer tier (scripts/sanitize.sh) runs this file under ASan and UBSan.
 */
import { lstatSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import * as native from '../../src/native/index.js';
import { killAll, startReader, waitFor } from '../helpers/daemon.js';
import { type Engine, engineThreads, startEngine } from '../helpers/engine.js';

let dir: string;
let engines: Engine[];
beforeEach(() => {
  dir = mkdtempSync('/tmp/emt-engine-');
  engines = [];
});
afterEach(async () => {
  await Promise.all(engines.map((engine) => engine.stop()));
  await killAll();
  rmSync(dir, { recursive: true, force: true });
});

function start(name: string, content: string, options: { decide?: boolean } = {}): Engine {
  const engine = startEngine(join(dir, name), content, options);
  engines.push(engine);
  return engine;
}

/** A `cat` of the mount; resolves with what it read once it exited 0. */
async function read(path: string): Promise<string> {
  const reader = startReader('cat', [path]);
  const out = await reader.done;
  expect(reader.child.exitCode).toBe(0);
  return out;
}

/** IN_DELETE_SELF | IN_MOVE_SELF: what a muted directory's watch still reports. */
const MUTED = 0xc00;

/** The event mask of this process's inotify watch on the directory with inode `ino` (from /proc/self/fdinfo). */
function watchMask(ino: number): number | undefined {
  for (const fd of readdirSync('/proc/self/fd')) {
    let link = '';
    try {
      link = readlinkSync(`/proc/self/fd/${fd}`);
    } catch {
      continue;
    }
    if (link !== 'anon_inode:inotify') continue;
    for (const line of readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8').split('\n')) {
      const m = / ino:([0-9a-f]+) .* mask:([0-9a-f]+)/.exec(line);
      if (m?.[1] !== undefined && m[2] !== undefined && Number.parseInt(m[1], 16) === ino)
        return Number.parseInt(m[2], 16) & 0xfff;
    }
  }
  return undefined;
}

/** After the stop: the mount's FIFO is at its path, and no rotation name is left beside it. */
function leftBehind(engine: Engine): string[] {
  expect(lstatSync(engine.path).isFIFO()).toBe(true);
  return readdirSync(dir).sort();
}

describe('a mount with policy any', () => {
  it('serves each reader its own pipe, rotating the FIFO, and stops with a stopped event', async () => {
    const engine = start('any', 'A=1\n');
    // Its thread waits in open() for a reader: the one engine thread there is.
    await waitFor(() => engineThreads() === 1 || undefined);
    const first = lstatSync(engine.path).ino;
    expect(await read(engine.path)).toBe('A=1\n');
    const served = await engine.next('served');
    expect(served).toMatchObject({ bytes: 4 });
    expect(served.code).toBeUndefined();
    // The FIFO at the path is a fresh one, the one the thread waits on now; the event names it.
    const second = lstatSync(engine.path).ino;
    expect(second).not.toBe(first);
    expect(served.inode).toBe(second);
    expect(native.mountInode(engine.handle)).toBe(second);
    expect([...native.lookAtMounts([engine.handle])]).toEqual([native.MOUNT_LOOK.same]);

    // New content reaches the next reader; the previous one is wiped (mountSetContent's copy).
    native.setMountContent(engine.handle, Buffer.from('A=2\nB=3\n'));
    expect(await read(engine.path)).toBe('A=2\nB=3\n');
    expect(await engine.next('served')).toMatchObject({ bytes: 8 });

    const stopped = await engine.stop();
    expect(stopped.inode).toBe(native.mountInode(engine.handle));
    expect(leftBehind(engine)).toEqual(['any']);
    await waitFor(() => engineThreads() === 0 || undefined);
  });

  it('reuses the FIFOs it served once their readers are gone: a few inodes over many reads, none left after', async () => {
    // A FIFO made per read allocates an inode per read, which ext4 without a journal makes slower with every inode
    // deleted in the last minutes (native/reuse.c): the inodes at the path must stay few however many reads.
    const engine = start('reused', 'A=1\n');
    const inodes = new Set<number>();
    const mtime = lstatSync(engine.path, { bigint: true }).mtimeNs;
    for (let i = 0; i < 20; i++) {
      expect(await read(engine.path)).toBe('A=1\n');
      inodes.add(lstatSync(engine.path).ino);
      // A reused FIFO's write moved its mtime; it carries the first one's again before it is back at the path.
      expect(lstatSync(engine.path, { bigint: true }).mtimeNs).toBe(mtime);
    }
    expect(inodes.size).toBeLessThanOrEqual(3);
    // Linked from the content pipe, a read moves no FIFO's mtime: the served ones resting beside the path still carry
    // the first one's (a write(2) would have moved theirs until they were reused: native/content-pipe.c).
    for (const name of readdirSync(dir)) expect(lstatSync(join(dir, name), { bigint: true }).mtimeNs, name).toBe(mtime);
    // Beside the path: the spare and the resting FIFOs, no more however many reads.
    expect(readdirSync(dir).length).toBeLessThanOrEqual(3);
    await engine.stop();
    expect(leftBehind(engine)).toEqual(['reused']);
    await waitFor(() => engineThreads() === 0 || undefined);
  });

  it('reads alike in a row are reported together: served events whose counts add up to the reads', async () => {
    const engine = start('burst', 'A=1\n');
    await waitFor(() => engineThreads() === 1 || undefined);
    // One process reading ten times back to back: the thread holds the served events and hands them over together
    // (native/mount.c mount_flush), one event per run of alike reads, not one per read.
    const code = `const fs = require('node:fs'); for (let i = 0; i < 10; i++) process.stdout.write(fs.readFileSync(${JSON.stringify(engine.path)}));`;
    const reader = startReader(process.execPath, ['-e', code]);
    expect(await reader.done).toBe('A=1\n'.repeat(10));
    const events: native.MountEvent[] = [];
    for (let reads = 0; reads < 10; ) {
      const event = await engine.next('served');
      events.push(event);
      reads += event.count ?? 1;
    }
    expect(events.reduce((n, e) => n + (e.count ?? 1), 0)).toBe(10);
    expect(events.length).toBeLessThan(10);
    for (const event of events) expect(event).toMatchObject({ bytes: 4 });
    // The last event names the FIFO the thread waits on now, as a single read's does.
    expect(events.at(-1)?.inode).toBe(native.mountInode(engine.handle));
    await engine.stop();
    await waitFor(() => engineThreads() === 0 || undefined);
  });

  it('content larger than a pipe holds goes to a writer thread, which reports the whole write', async () => {
    const big = `BIG=${'x'.repeat(1 << 20)}\n`;
    const engine = start('big', big);
    expect(await read(engine.path)).toBe(big);
    expect(await engine.next('served')).toMatchObject({ bytes: big.length });
    await engine.stop();
    await waitFor(() => engineThreads() === 0 || undefined);
  });

  it('a path that changes under the mount is reported (look) and seen by lookAtMounts', async () => {
    const engine = start('looked', 'A=1\n');
    await waitFor(() => engineThreads() === 1 || undefined);
    rmSync(engine.path);
    if (native.watchAvailable()) await engine.next('look');
    expect([...native.lookAtMounts([engine.handle])]).toEqual([native.MOUNT_LOOK.absent]);
    await engine.stop();
    expect(readdirSync(dir)).toEqual([]);
    await waitFor(() => engineThreads() === 0 || undefined);
  });

  it('a change made while the watcher has the directory muted after a read is still reported (look)', async () => {
    if (!native.watchAvailable()) return;
    const engine = start('muted', 'A=1\n');
    // A read renames entries in the directory; the watcher then mutes it while it rests (native/watch.c). Read
    // until the directory's watch is seen muted (only its own removal or move reported), then change the path.
    const ino = lstatSync(dir).ino;
    let muted = false;
    for (let tries = 0; !muted && tries < 50; tries++) {
      expect(await read(engine.path)).toBe('A=1\n');
      muted = await waitFor(() => (watchMask(ino) === MUTED ? true : undefined), 200).catch(() => false);
    }
    expect(muted).toBe(true);
    rmSync(engine.path);
    // Heard again after the rest, and looked at: the removal is reported as a queued event would have been.
    await engine.next('look');
    expect([...native.lookAtMounts([engine.handle])]).toEqual([native.MOUNT_LOOK.absent]);
    await engine.stop();
    await waitFor(() => engineThreads() === 0 || undefined);
  });
});

describe('a deciding mount', () => {
  it('hands each reader to JS as a ticket, finished with the values or with a refusal', async () => {
    const engine = start('decide', 'A=1\n', { decide: true });
    const allowed = startReader('cat', [engine.path]);
    const event = await engine.next('reader');
    expect(event.ticket).toBeDefined();
    const ticket = event.ticket as native.Ticket;
    // JS's confirming scan finds the reader, reading.
    const scan = native.ticketHolders(ticket);
    expect(scan.holders).toContainEqual(expect.objectContaining({ pid: allowed.child.pid, mode: 'r' }));
    expect(native.finishTicket(ticket, Buffer.from('A=1\n'), 1)).toEqual({
      bytes: 4,
      pending: false,
      closedEarly: false,
    });
    expect(await allowed.done).toBe('A=1\n');

    // A refused reader gets the comment lines it is finished with, then EOF.
    const refused = startReader('cat', [engine.path]);
    const second = await engine.next('reader');
    const refusal = '# envmount: refused\n';
    expect(native.finishTicket(second.ticket as native.Ticket, Buffer.from(refusal), 1)).toMatchObject({
      bytes: refusal.length,
      pending: false,
    });
    expect(await refused.done).toBe(refusal);
    // One refused with nothing at all reads an empty file.
    const empty = startReader('cat', [engine.path]);
    const third = await engine.next('reader');
    expect(native.finishTicket(third.ticket as native.Ticket, Buffer.alloc(0), 1)).toMatchObject({ bytes: 0 });
    expect(await empty.done).toBe('');

    // Served at once again once the mount no longer decides.
    native.setMountDecide(engine.handle, false);
    expect(await read(engine.path)).toBe('A=1\n');
    expect(await engine.next('served')).toMatchObject({ bytes: 4 });
    expect(engine.events.filter((e) => e.type === 'reader')).toHaveLength(3);

    await engine.stop();
    expect(leftBehind(engine)).toEqual(['decide']);
    await waitFor(() => engineThreads() === 0 || undefined);
  });

  it('a ticket larger than a pipe holds finishes from a writer thread: pending, then drained', async () => {
    const big = `BIG=${'y'.repeat(1 << 20)}\n`;
    const engine = start('drain', 'A=1\n', { decide: true });
    const reader = startReader('cat', [engine.path]);
    const event = await engine.next('reader');
    const result = native.finishTicket(event.ticket as native.Ticket, Buffer.from(big), 1);
    expect(result.pending).toBe(true);
    expect(result.bytes).toBeLessThan(big.length);
    expect(await reader.done).toBe(big);
    expect(await engine.next('drained')).toMatchObject({ bytes: big.length });
    await engine.stop();
    await waitFor(() => engineThreads() === 0 || undefined);
  });
});
