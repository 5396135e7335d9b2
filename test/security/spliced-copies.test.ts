/**
 * Issue 14, class 5: readers that share one pipe (they queued on it while no daemon was there) and read it 32 bytes
 * at a time (as Deno's readFileSync does) must each get one whole copy or nothing, never pieces of several copies.
 * A copy goes out only where every reader's pending read can take all of it at once; otherwise nothing is written
 * (fail closed), the read is audited as such and counted in `status`.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { blockedInFifoOpen, killAll, TestDaemon, track, waitFor } from '../helpers/daemon.js';

const VALUE = 'spliced-canary-'.padEnd(200, 'x');
const CONTENT = `TOKEN='${VALUE}'\n`;
/** Opens the file and reads it 32 bytes per read() until EOF; prints what it got, base64. */
const SMALL_READER = `const fs=require('fs');const fd=fs.openSync(process.argv[1],'r');const b=Buffer.alloc(32);const parts=[];
for(let n;(n=fs.readSync(fd,b,0,32,null))>0;)parts.push(Buffer.from(b.subarray(0,n)));
process.stdout.write(Buffer.concat(parts).toString('base64'))`;

let daemon: TestDaemon;

beforeAll(async () => {
  daemon = new TestDaemon();
  await daemon.start();
  expect((await daemon.cli(['set', 'TOKEN'], { input: VALUE })).code).toBe(0);
});

afterAll(async () => {
  await killAll();
  await daemon?.dispose();
});

/** A reader of `path` with a 20 s deadline (SIGKILL), resolving with what it got. */
function smallReader(path: string) {
  const child = track(spawn(process.execPath, ['-e', SMALL_READER, path], { stdio: ['ignore', 'pipe', 'pipe'] }));
  const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
  let out = '';
  child.stdout?.setEncoding('utf8').on('data', (d: string) => {
    out += d;
  });
  const done = new Promise<string>((resolve) =>
    child.on('close', () => {
      clearTimeout(timer);
      resolve(Buffer.from(out, 'base64').toString());
    }),
  );
  return { child, done };
}

describe.each([
  ['a rule mount', ['--allow', 'node', '--otherwise', 'deny']],
  ['a policy any mount', ['--allow', 'any']],
])('readers reading 32 bytes at a time on one pipe, %s', (name, policy) => {
  it('each get one whole copy or nothing, and the withheld read is audited and counted', async () => {
    const dir = daemon.project(name.replaceAll(' ', '-'), 'TOKEN=envmount://TOKEN\n');
    expect((await daemon.cli(['add', dir, ...policy])).code).toBe(0);
    const path = join(dir, '.env');
    await daemon.stop('SIGKILL');
    // Three readers queue on the pipe left behind; the next daemon wakes them together on one pipe.
    const readers = [0, 1, 2].map(() => smallReader(path));
    for (const reader of readers) await blockedInFifoOpen(reader.child.pid ?? 0);
    await daemon.start();
    const outputs = await Promise.all(readers.map((r) => r.done));
    for (const output of outputs) expect(['', CONTENT]).toContain(output);
    // Their reads are too small for a whole copy: nothing was written, which the log and status say.
    const log = await waitFor(async () => {
      const entries = JSON.parse((await daemon.cli(['--json', 'log', dir])).stdout) as Array<{
        outcome?: string;
        reason?: string;
      }>;
      return entries.some((e) => e.outcome === 'empty') ? entries : undefined;
    });
    expect(log.find((e) => e.outcome === 'empty')?.reason).toContain('pieces smaller than the content');
    const status = JSON.parse((await daemon.cli(['--json', 'status'])).stdout) as {
      mounts: Array<{ dir: string; withheld?: number }>;
    };
    expect(status.mounts.find((m) => m.dir === dir)?.withheld).toBeGreaterThan(0);
  });
});
