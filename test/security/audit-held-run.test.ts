/**
 * Reads alike in a row are one served event with their count (native/mount.c hold()): every open must still be one
 * audit entry and one read in `status`, also when the daemon stops while such a run is held, not yet handed to JS.
 */
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { killAll, run, TestDaemon, waitFor } from '../helpers/daemon.js';

const READS = 40;
let daemon: TestDaemon;

afterAll(async () => {
  await killAll();
  await daemon?.dispose();
});

const logOf = async (dir: string) =>
  JSON.parse((await daemon.cli(['--json', 'log', dir, '--limit', '1000'])).stdout) as Array<{
    decision: string;
    outcome?: string;
  }>;

describe('policy any: a run of reads alike', () => {
  it('is one entry and one read in status per open, also when the daemon stops with the run held', async () => {
    daemon = new TestDaemon();
    await daemon.start();
    expect((await daemon.cli(['set', 'SMALL'], { input: 'held-run-value' })).code).toBe(0);
    const dir = daemon.project('run', 'SMALL=envmount://SMALL\n');
    expect((await daemon.cli(['add', dir, '--allow', 'any', '--agents', 'rules'])).code).toBe(0);
    const loop = `for i in $(seq ${READS}); do cat "$1" > /dev/null || exit 1; done`;
    expect((await run('bash', ['-c', loop, 'sh', join(dir, '.env')], { timeoutMs: 60_000 })).code).toBe(0);
    const all = await waitFor(async () => {
      const log = await logOf(dir);
      return log.length >= READS ? log : undefined;
    });
    expect(all.filter((e) => e.decision === 'served' && e.outcome === 'whole')).toHaveLength(READS);
    const status = JSON.parse((await daemon.cli(['--json', 'status'])).stdout) as { mounts: Array<{ reads: number }> };
    expect(status.mounts[0]?.reads).toBe(READS);

    // Reads, then SIGTERM at once: the run still held in the mount thread goes to JS and the log before the exit.
    const reads = `for i in $(seq ${READS}); do cat "$1" > /dev/null || exit 1; done; kill -TERM "$2"`;
    const child = daemon.process;
    const exited = new Promise<number | null>((done) =>
      child?.exitCode !== null ? done(child?.exitCode ?? null) : child.once('exit', (code) => done(code)),
    );
    const pid = String(child?.pid);
    expect((await run('bash', ['-c', reads, 'sh', join(dir, '.env'), pid], { timeoutMs: 60_000 })).code).toBe(0);
    expect(await exited).toBe(0);
    await daemon.start();
    expect((await logOf(dir)).filter((e) => e.decision === 'served')).toHaveLength(2 * READS);
  });
});
