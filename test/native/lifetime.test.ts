/**
 * Native lifetimes at the end of a process: a process that loaded the addon and ends without process.exit() (a
 * test, a script, any embedding) with mounts waiting, readers waiting for a decision (tickets pending) and a writer
 * thread mid-write must exit 0, and every reader must be let go (EOF), not left blocked (see native/lifetime.c).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { killAll, ROOT, startReader, track } from '../helpers/daemon.js';

const NATIVE = pathToFileURL(join(ROOT, 'dist/native/index.js')).href;

/**
 * The child: four mounts in `dir` (one left waiting in open(), two deciding, one with content larger than a pipe
 * holds); it prints one JSON line per event, takes the tickets and never finishes them, and lets its event loop run
 * dry when its stdin closes.
 */
const CHILD = `
const n = await import(${JSON.stringify(NATIVE)});
const dir = process.argv[1];
const tickets = [];
const mounts = [['waiting', 'A=1\\n', false], ['ask1', 'A=1\\n', true], ['ask2', 'A=1\\n', true],
  ['big', 'B'.repeat(1 << 20), false]];
for (const [name, content, decide] of mounts) {
  const path = dir + '/' + name;
  n.mkfifo(path, 0o600);
  n.startMount(path, path + '.tmp', 60000, (e) => {
    if (e.ticket) tickets.push(e.ticket);
    process.stdout.write(JSON.stringify({ name, type: e.type }) + '\\n');
  }, Buffer.from(content), decide);
}
process.stdout.write(JSON.stringify({ type: 'ready' }) + '\\n');
process.stdin.on('data', () => undefined);
process.stdin.on('end', () => process.stdin.destroy());
`;

let dir: string;
beforeEach(() => {
  dir = mkdtempSync('/tmp/emt-life-');
});
afterEach(async () => {
  await killAll();
  rmSync(dir, { recursive: true, force: true });
});

/** Resolves with the child's JSON lines once `done` says they are enough. */
function lines(child: ChildProcess) {
  const seen: { name?: string; type: string }[] = [];
  const waiters: { test: () => boolean; resolve: () => void }[] = [];
  let rest = '';
  child.stdout?.setEncoding('utf8').on('data', (d: string) => {
    rest += d;
    const parts = rest.split('\n');
    rest = parts.pop() ?? '';
    for (const line of parts) seen.push(JSON.parse(line));
    for (const w of [...waiters]) if (w.test()) waiters.splice(waiters.indexOf(w), 1) && w.resolve();
  });
  return {
    seen,
    until(test: () => boolean): Promise<void> {
      if (test()) return Promise.resolve();
      return new Promise((resolve, reject) => {
        waiters.push({ test, resolve });
        child.once('exit', () => reject(new Error(`child exited first; saw ${JSON.stringify(seen)}`)));
      });
    },
  };
}

describe('a process that loaded the addon', () => {
  it('ends without process.exit() with readers waiting and tickets pending: exit 0, every reader gets EOF', async () => {
    const child = track(
      spawn(process.execPath, ['--input-type=module', '-e', CHILD, dir], { stdio: ['pipe', 'pipe', 'pipe'] }),
    );
    let stderr = '';
    child.stderr?.setEncoding('utf8').on('data', (d: string) => {
      stderr += d;
    });
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
      child.on('exit', (code, signal) => resolve({ code, signal })),
    );
    const out = lines(child);
    await out.until(() => out.seen.some((l) => l.type === 'ready'));

    // Two readers wait for a decision the child never makes; one opens the big mount and never reads.
    const asks = [startReader('cat', [join(dir, 'ask1')]), startReader('cat', [join(dir, 'ask2')])];
    const stalled = startReader(process.execPath, [
      '-e',
      `require('fs').openSync(${JSON.stringify(join(dir, 'big'))}, 'r'); console.log('opened'); setTimeout(() => {}, 60000);`,
    ]);
    const opened = new Promise<void>((resolve) => stalled.child.stdout?.once('data', () => resolve()));
    await out.until(() => out.seen.filter((l) => l.type === 'reader').length === 2);
    await opened;

    child.stdin?.end(); // nothing keeps the child's event loop alive now
    const end = await exited;
    expect({ ...end, stderr }).toEqual({ code: 0, signal: null, stderr: '' });
    // The readers of the unfinished tickets were let go with EOF: nothing written, exit 0.
    for (const ask of asks) {
      expect(await ask.done).toBe('');
      expect(ask.child.exitCode).toBe(0);
    }
    stalled.child.kill('SIGKILL');
  });
});
