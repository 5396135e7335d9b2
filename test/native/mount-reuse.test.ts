/**
 * Served FIFOs reused as later reads' pipes (native/reuse.c), attacked: a FIFO the user opened to others (chmod)
 * must not come back to the path, a reader still holding a served FIFO must keep it to itself (and later readers
 * get only their own bytes), processes blocked on its rotation names (a resting FIFO, the spare) must be let go when the
 * mount stops, and another user who can write the directory and swaps a resting FIFO's name for a FIFO of its own must
 * never get that FIFO written to nor put at the path. No daemon: the engine through src/native/index.ts.
 */
import { spawn } from 'node:child_process';
import { chmodSync, linkSync, lstatSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { killAll, run, startReader, track, waitFor } from '../helpers/daemon.js';
import { type Engine, engineThreads, startEngine } from '../helpers/engine.js';
import { OTHER_USER } from '../helpers/other-user.js';

const CONTENT = 'TOKEN=reuse-canary-value\n';
// The system's python: a user's shims (pyenv) may sit where the other user cannot reach.
const PYTHON = '/usr/bin/python3';
const AS_OTHER = OTHER_USER
  ? ['--reuid', String(OTHER_USER.uid), '--regid', String(OTHER_USER.gid), '--clear-groups']
  : [];

let dir: string;
let engines: Engine[];
beforeEach(() => {
  dir = mkdtempSync('/tmp/emt-reuse-');
  engines = [];
});
afterEach(async () => {
  await Promise.all(engines.map((engine) => engine.stop()));
  await killAll();
  rmSync(dir, { recursive: true, force: true });
});

/** A mount already read once: a reader that reaches the FIFO before the thread's first open() is a queued one,
 * whose FIFO is never kept for reuse (share.c), and on a loaded machine the first `cat` can (counting threads that
 * wait in open() tells which process's, not which thread's). Every later read is an ordinary one. */
async function start(name: string, strictDir = true): Promise<Engine> {
  const engine = startEngine(join(dir, name), CONTENT, { strictDir });
  engines.push(engine);
  await waitFor(() => engineThreads() === 1 || undefined);
  expect((await cat(engine.path)).out).toBe(CONTENT);
  return engine;
}

/** A `cat` of `path` (as another user with `as`); what it read and its exit code. */
async function cat(path: string, as: string[] = []): Promise<{ out: string; code: number | null }> {
  const reader = as.length > 0 ? startReader('setpriv', [...as, 'cat', path]) : startReader('cat', [path]);
  const out = await reader.done;
  return { out, code: reader.child.exitCode };
}

/** The rotation name beside `engine`'s path that holds inode `ino`. */
function nameOf(engine: Engine, ino: number): string {
  const found = readdirSync(dir).find(
    (name) => lstatSync(join(dir, name)).ino === ino && join(dir, name) !== engine.path,
  );
  if (found === undefined) throw new Error(`no rotation name holds inode ${ino}: ${readdirSync(dir).join(' ')}`);
  return join(dir, found);
}

/** A python process blocked in open(O_RDONLY) on `path`; `done` resolves with what it read once it exits. */
function blockedReader(path: string, as: string[] = []) {
  const code = 'import os,sys\nfd=os.open(sys.argv[1],os.O_RDONLY)\nsys.stdout.write(os.read(fd,65536).decode())';
  const child = track(spawn('setpriv', [...as, PYTHON, '-c', code, path]));
  let out = '';
  child.stdout?.setEncoding('utf8').on('data', (d: string) => {
    out += d;
  });
  const done = new Promise<{ out: string; code: number | null }>((resolve) =>
    child.on('close', (code) => resolve({ out, code })),
  );
  return { child, done };
}

/** Whether process `pid` sleeps in the kernel waiting for a FIFO's other end (fifo_open's wait_for_partner). */
function waitsOnFifo(pid: number | undefined): boolean {
  try {
    return readdirSync(`/proc/${pid}/task`).some((tid) =>
      /^wait_for_partner/.test(readFileSync(`/proc/${pid}/task/${tid}/wchan`, 'utf8')),
    );
  } catch {
    return false;
  }
}

/** Another user renames the FIFO the next read rests at its rotation name away and makes a FIFO of its own at that
 * name (mode 0666), then waits on it in open(): any writer opened there would let it go. */
async function swapRestingName(engine: Engine) {
  const first = lstatSync(engine.path).ino;
  expect((await cat(engine.path)).out).toBe(CONTENT);
  const name = nameOf(engine, first);
  const swap = 'import os,sys\nos.rename(sys.argv[1],sys.argv[1]+".away")\nos.mkfifo(sys.argv[1],0o666)';
  expect((await run('setpriv', [...AS_OTHER, PYTHON, '-c', swap, name])).code).toBe(0);
  const theirs = lstatSync(name);
  expect(theirs.uid).toBe(OTHER_USER?.uid);
  const listener = blockedReader(name, AS_OTHER);
  await waitFor(() => waitsOnFifo(listener.child.pid) || undefined);
  return { name, theirs, listener };
}

describe('reused FIFOs', () => {
  it.skipIf(OTHER_USER === undefined)(
    'a FIFO the user made readable by others is never put back at the path: another user never reads the values',
    async () => {
      const engine = await start('chmodded');
      chmodSync(dir, 0o711); // others may reach the path, not list or write the directory
      expect((await cat(engine.path)).out).toBe(CONTENT); // a resting FIFO and a spare beside the path
      // The user's `chmod -R a+rw`: the FIFO at the path now (its own read is the user's doing), the resting one
      // and the spare ...
      for (const name of readdirSync(dir)) chmodSync(join(dir, name), 0o666);
      for (let i = 0; i < 6; i++) {
        expect((await cat(engine.path)).out).toBe(CONTENT);
        // ... must not come back: each later FIFO at the path is 0600, and the other user is refused.
        expect(lstatSync(engine.path).mode & 0o077).toBe(0);
        const other = await cat(engine.path, AS_OTHER);
        expect(other.out).toBe('');
        expect(other.code).not.toBe(0);
      }
    },
  );

  it('rotation names removed between reads (`git clean -x`) are made again: reads go on', async () => {
    const engine = await start('cleaned');
    for (let round = 0; round < 3; round++) {
      for (let i = 0; i < 3; i++) expect((await cat(engine.path)).out).toBe(CONTENT);
      const beside = readdirSync(dir).filter((name) => join(dir, name) !== engine.path);
      expect(beside.length).toBeGreaterThan(0);
      for (const name of beside) rmSync(join(dir, name));
    }
    expect((await cat(engine.path)).out).toBe(CONTENT);
    expect(engine.events.filter((e) => e.type !== 'served')).toEqual([]);
  });

  it('a reader still holding a served FIFO keeps it: later readers get their own pipe and only their bytes', async () => {
    const engine = await start('held');
    const first = lstatSync(engine.path).ino;
    // Opens, then reads only once told to: its content waits in the pipe meanwhile.
    const code =
      'import os,sys\nfd=os.open(sys.argv[1],os.O_RDONLY)\nprint("open",flush=True)\nsys.stdin.readline()\nsys.stdout.write(os.read(fd,65536).decode())';
    const holder = track(spawn(PYTHON, ['-c', code, engine.path]));
    let out = '';
    holder.stdout?.setEncoding('utf8').on('data', (d: string) => {
      out += d;
    });
    const done = new Promise<void>((resolve) => holder.on('close', () => resolve()));
    await waitFor(() => out.startsWith('open\n') || undefined);
    for (let i = 0; i < 6; i++) {
      expect((await cat(engine.path)).out).toBe(CONTENT);
      expect(lstatSync(engine.path).ino).not.toBe(first);
    }
    holder.stdin?.end('\n');
    await done;
    expect(out).toBe(`open\n${CONTENT}`);
  });

  it('processes blocked on the rotation names (a resting FIFO, the spare) are let go when the mount stops', async () => {
    const engine = await start('by-name');
    expect((await cat(engine.path)).out).toBe(CONTENT);
    await engine.next('served'); // handed over at the flush, which lets the late readers go just after
    // Beside the path now: the FIFO just served, resting, and the next read's spare, made in advance.
    const names = readdirSync(dir)
      .filter((name) => name !== 'by-name')
      .map((name) => join(dir, name));
    expect(names).toHaveLength(2);
    const blocked = names.map((name) => blockedReader(name));
    await waitFor(() => blocked.every((b) => waitsOnFifo(b.child.pid)) || undefined);
    await engine.stop();
    // Bounded: before, nothing woke them (the resting one was released once, at the flush before they came; the
    // spare never) and they waited forever.
    const ended: { out: string; code: number | null }[] = [];
    for (const b of blocked)
      void b.done.then((result) => {
        ended.push(result);
      });
    await waitFor(() => ended.length === blocked.length || undefined, 10_000);
    expect(ended).toEqual(blocked.map(() => ({ out: '', code: 0 })));
    await waitFor(() => engineThreads() === 0 || undefined);
  });

  it('a resting FIFO given a second name (a hard link: `cp -al`, a snapshot tool) is never put back at the path', async () => {
    const engine = await start('linked');
    const first = lstatSync(engine.path).ino;
    expect((await cat(engine.path)).out).toBe(CONTENT);
    linkSync(nameOf(engine, first), join(dir, 'snapshot-of-env'));
    for (let i = 0; i < 6; i++) {
      expect((await cat(engine.path)).out).toBe(CONTENT);
      expect(lstatSync(engine.path).ino).not.toBe(first);
    }
    // The second name still holds it, alone now: the rotation name went with the FIFO's reuse.
    expect(lstatSync(join(dir, 'snapshot-of-env')).nlink).toBe(1);
  });

  it.skipIf(OTHER_USER === undefined)(
    'another user who renames a resting FIFO away and puts its own at the name never gets it written to or put at the path',
    async () => {
      const engine = await start('swapped', false); // --allow-shared-dir: the other user may write the directory
      chmodSync(dir, 0o777);
      const { name, theirs, listener } = await swapRestingName(engine);
      for (let i = 0; i < 6; i++) {
        expect((await cat(engine.path)).out).toBe(CONTENT);
        const at = lstatSync(engine.path);
        expect(at.uid).toBe(process.getuid?.());
        expect(at.ino).not.toBe(theirs.ino);
      }
      expect(waitsOnFifo(listener.child.pid)).toBe(true);
      await engine.stop();
      // Its FIFO is still at the name (ours is never removed by name unless it holds our inode), untouched.
      expect(lstatSync(name).ino).toBe(theirs.ino);
      expect(waitsOnFifo(listener.child.pid)).toBe(true);
      await run(PYTHON, ['-c', 'import os,sys\nos.close(os.open(sys.argv[1],os.O_WRONLY|os.O_NONBLOCK))', name]);
      expect(await listener.done).toEqual({ out: '', code: 0 });
    },
  );

  it.skipIf(OTHER_USER === undefined)(
    'a strict mount whose directory another user was let write (until the daemon pauses it) writes no value to their FIFO',
    async () => {
      // Strict: the thread trusts a directory only we can write and tells whether a resting FIFO is held by opening
      // its name. Now another user can write it: the name holds their FIFO, and that open lets their reader go.
      const engine = await start('strict-swapped');
      chmodSync(dir, 0o777);
      const { name, theirs, listener } = await swapRestingName(engine);
      for (let i = 0; i < 6; i++) {
        expect((await cat(engine.path)).out).toBe(CONTENT);
        expect(lstatSync(engine.path).uid).toBe(process.getuid?.());
      }
      await engine.stop();
      // Still at its name; let go (if the thread's open has not already) with nothing: no byte of the values.
      expect(lstatSync(name).ino).toBe(theirs.ino);
      await run(PYTHON, ['-c', 'import os,sys\nos.close(os.open(sys.argv[1],os.O_WRONLY|os.O_NONBLOCK))', name]).catch(
        () => undefined,
      );
      expect(await listener.done).toEqual({ out: '', code: 0 });
    },
  );
});
