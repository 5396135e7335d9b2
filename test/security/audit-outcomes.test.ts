/**
 * Issue 14, class 8: every open of a mount is one audit entry with its outcome: served whole, closed after N bytes,
 * timed out (never read until the write deadline), empty (a shared pipe), refused; and a read on a rule mount whose
 * reader was not identified is not labelled "(policy any)".
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { blockedInFifoOpen, killAll, run, startReader, TestDaemon, waitFor } from '../helpers/daemon.js';

/** Larger than a pipe's buffer (64 KiB): a reader that stops reading leaves the daemon with bytes to write. */
const BIG = 'b'.repeat(200 * 1024);

let daemon: TestDaemon;

beforeAll(async () => {
  daemon = new TestDaemon();
  await daemon.start({ ENVMOUNT_WRITE_TIMEOUT_MS: '1000' });
  expect((await daemon.cli(['set', 'BIG'], { input: BIG })).code).toBe(0);
  expect((await daemon.cli(['set', 'SMALL'], { input: 'small-audit-value' })).code).toBe(0);
});

afterAll(async () => {
  await killAll();
  await daemon?.dispose();
});

interface Entry {
  decision: string;
  outcome?: string;
  bytes: number;
  reason?: string;
  reader?: { exe: string };
}

async function logOf(dir: string): Promise<Entry[]> {
  return JSON.parse((await daemon.cli(['--json', 'log', dir])).stdout) as Entry[];
}

/** Waits until the mount's log holds `count` entries; returns them. */
function entries(dir: string, count: number): Promise<Entry[]> {
  return waitFor(async () => {
    const log = await logOf(dir);
    return log.length >= count ? log : undefined;
  });
}

describe('policy any', () => {
  it('logs a whole read, a reader that closed early and one that never read, one entry each', async () => {
    const dir = daemon.project('any', 'BIG=envmount://BIG\n');
    expect((await daemon.cli(['add', dir, '--allow', 'any', '--agents', 'rules'])).code).toBe(0);
    const path = join(dir, '.env');
    const whole = await run('cat', [path], { timeoutMs: 20_000 });
    expect(whole.stdout.length).toBeGreaterThan(BIG.length);
    expect((await entries(dir, 1)).at(-1)).toMatchObject({ decision: 'served', outcome: 'whole' });

    await run('head', ['-c', '5', path], { timeoutMs: 20_000 });
    const early = (await entries(dir, 2)).at(-1);
    expect(early).toMatchObject({ decision: 'served', outcome: 'partial' });
    expect(early?.bytes).toBeLessThan(BIG.length);

    // Opens the pipe and never reads: the write deadline (1 s here) ends it.
    const sleeper = `import time; f = open(${JSON.stringify(path)}, 'rb'); time.sleep(3)`;
    await run('python3', ['-c', sleeper], { timeoutMs: 20_000 });
    const late = (await entries(dir, 3)).at(-1);
    expect(late).toMatchObject({ decision: 'served', outcome: 'timeout' });
    expect(await logOf(dir)).toHaveLength(3);
  });

  it('logs each reader of a shared pipe: three readers queued on one pipe are three entries', async () => {
    const dir = daemon.project('shared', 'SMALL=envmount://SMALL\n');
    expect((await daemon.cli(['add', dir, '--allow', 'any', '--agents', 'rules'])).code).toBe(0);
    const path = join(dir, '.env');
    await daemon.stop('SIGKILL');
    const readers = [0, 1, 2].map(() => startReader('cat', [path]));
    try {
      for (const reader of readers) await blockedInFifoOpen(reader.child.pid ?? 0);
      await daemon.start({ ENVMOUNT_WRITE_TIMEOUT_MS: '1000' });
      const outputs = await Promise.all(readers.map((r) => r.done));
      const log = await entries(dir, 3);
      expect(log).toHaveLength(3);
      // Each entry says what its reader got: a whole copy, or nothing (another reader took the copy).
      const got = outputs.map((o) => (o === '' ? 'empty' : 'whole')).sort();
      expect(log.map((e) => e.outcome).sort()).toEqual(got);
    } finally {
      for (const reader of readers) reader.child.kill('SIGKILL');
    }
  });
});

describe('a rule mount', () => {
  it('logs a refused read as refused, and a reader it could not identify without "(policy any)"', async () => {
    const dir = daemon.project('rules', 'BIG=envmount://BIG\n');
    expect((await daemon.cli(['add', dir, '--allow', 'node', '--otherwise', 'deny'])).code).toBe(0);
    const path = join(dir, '.env');
    await run('cat', [path], { timeoutMs: 20_000 });
    expect((await entries(dir, 1)).at(-1)).toMatchObject({ decision: 'denied', outcome: 'refused' });

    // Opens and closes at once: gone before the daemon can see who it was. Whether it is gone first is the
    // scheduler's choice (a reader paused between its open and its close is found and refused as python3), so it
    // opens again until the daemon has lost that race once, at most 20 times; each visit is one entry either way.
    const gone = `import os; os.close(os.open(${JSON.stringify(path)}, os.O_RDONLY | os.O_NONBLOCK))`;
    let last: Entry | undefined;
    for (let visit = 2; visit < 22 && last?.decision !== 'unidentified'; visit++) {
      await run('python3', ['-c', gone], { timeoutMs: 20_000 });
      last = (await entries(dir, visit)).at(-1);
      if (last?.decision !== 'unidentified') expect(last).toMatchObject({ decision: 'denied', outcome: 'refused' });
    }
    expect(last).toMatchObject({ decision: 'unidentified', outcome: 'refused' });
    const text = (await daemon.cli(['log', dir])).stdout;
    const line = text.split('\n').find((l) => l.includes('unidentified'));
    expect(line).toContain('reader not identified');
    expect(line).not.toContain('policy any');
  });
});
