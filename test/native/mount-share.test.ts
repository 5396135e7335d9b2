/**
 * The native mount engine with several readers on one pipe (native/share.c), no daemon: readers that queued on a
 * FIFO before its mount started (as on a pipe left by a daemon that died) are woken together on one pipe. Policy any
 * gives each its own copy; a deciding mount hands them to JS as one ticket listing every holder (the collision JS
 * decides on), finished with a copy for each, or refused with nothing for any. Nothing is left waiting after.
 */
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import * as native from '../../src/native/index.js';
import { blockedInFifoOpen, killAll, startReader, waitFor } from '../helpers/daemon.js';
import { type Engine, engineThreads, startEngine } from '../helpers/engine.js';

let dir: string;
let engines: Engine[];
beforeEach(() => {
  dir = mkdtempSync('/tmp/emt-share-');
  engines = [];
});
afterEach(async () => {
  await Promise.all(engines.map((engine) => engine.stop()));
  await killAll();
  rmSync(dir, { recursive: true, force: true });
});

/** Two `cat`s blocked in open() on a FIFO at `name` that no mount serves yet. */
async function queuedReaders(name: string) {
  const path = join(dir, name);
  native.mkfifo(path, 0o600);
  const readers = [startReader('cat', [path]), startReader('cat', [path])];
  for (const reader of readers) await blockedInFifoOpen(reader.child.pid ?? 0);
  return { path, readers };
}

function start(path: string, content: string, decide: boolean): Engine {
  const engine = startEngine(path, content, { decide, fifo: false });
  engines.push(engine);
  return engine;
}

describe('readers queued on one pipe', () => {
  it('policy any: each gets a whole copy of its own', async () => {
    const { path, readers } = await queuedReaders('any');
    const engine = start(path, 'A=1\n', false);
    const served = await engine.next('served');
    expect(served).toMatchObject({ copies: 2, readers: 2, bytes: 8 });
    expect(await Promise.all(readers.map((r) => r.done))).toEqual(['A=1\n', 'A=1\n']);
    // The mount goes on serving the next reader alone.
    const next = startReader('cat', [path]);
    expect(await next.done).toBe('A=1\n');
    await engine.stop();
    expect(readdirSync(dir)).toEqual(['any']);
    await waitFor(() => engineThreads() === 0 || undefined);
  });

  it('a deciding mount lists every holder on its one ticket; allowed, each gets a copy', async () => {
    const { path, readers } = await queuedReaders('allowed');
    const engine = start(path, 'A=1\n', true);
    const event = await engine.next('reader');
    const pids = (event.holders ?? []).filter((h) => h.mode === 'r').map((h) => h.pid);
    expect(pids.sort()).toEqual(readers.map((r) => r.child.pid).sort());
    const result = native.finishTicket(event.ticket as native.Ticket, Buffer.from('A=1\n'), pids.length);
    expect(result.pending).toBe(true);
    expect(await engine.next('drained')).toMatchObject({ copies: 2, readers: 2, bytes: 8 });
    expect(await Promise.all(readers.map((r) => r.done))).toEqual(['A=1\n', 'A=1\n']);
    await engine.stop();
    await waitFor(() => engineThreads() === 0 || undefined);
  });

  it('a deciding mount refusing the collision: every reader ends with nothing', async () => {
    const { path, readers } = await queuedReaders('refused');
    const engine = start(path, 'A=1\n', true);
    const event = await engine.next('reader');
    expect(event.holders?.length).toBe(2);
    expect(native.finishTicket(event.ticket as native.Ticket, Buffer.alloc(0), 1)).toMatchObject({
      bytes: 0,
      pending: false,
    });
    expect(await Promise.all(readers.map((r) => r.done))).toEqual(['', '']);
    for (const reader of readers) expect(reader.child.exitCode).toBe(0);
    await engine.stop();
    await waitFor(() => engineThreads() === 0 || undefined);
  });
});
