/**
 * The FUSE backend's native half (native/fuse-*.c) with real readers: `.env` as a regular file, every open its own
 * whole copy, held opens answered by JS, reads from a process that did not open the handle refused.
 */
import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import * as native from '../../src/native/index.js';
import { fuseFinishOpen, fuseSetContent } from '../../src/native/index.js';
import { killAll, run, startReader } from '../helpers/daemon.js';
import { cleanupFuse, FUSE_SKIP, fuseMounted, fuseTitle, mountAt, placeholder, unmount } from '../helpers/fuse.js';

afterEach(async () => {
  await killAll();
  await cleanupFuse();
});

const CONTENT = Buffer.from(Array.from({ length: 200 }, (_, i) => `KEY_${i}=value-${i}-${'x'.repeat(20)}\n`).join(''));

describe.skipIf(FUSE_SKIP)(fuseTitle('FUSE mount'), () => {
  it('is a regular file of this user, mode 0600, with the content’s size and the given mtime', async () => {
    const path = placeholder();
    const m = mountAt(path, false);
    const given = Buffer.from(CONTENT);
    fuseSetContent(m.mount, given, 1_700_000_000_000);
    given.fill(0);
    const st = statSync(path);
    expect(st.isFile()).toBe(true);
    expect(st.mode & 0o7777).toBe(0o600);
    expect(st.uid).toBe(process.getuid?.());
    expect(st.size).toBe(CONTENT.length);
    expect(st.mtimeMs).toBe(1_700_000_000_000);
    expect(readFileSync(path)).toEqual(CONTENT);
    expect(statSync(path).mtimeMs).toBe(1_700_000_000_000); // a read changes no time
    expect(() => writeFileSync(path, 'X=1\n')).toThrow(expect.objectContaining({ code: 'EROFS' }));
    expect((await run('bash', ['-c', `[ -s ${path} ] && [ -f ${path} ] && echo yes`])).stdout).toBe('yes\n');
    expect(fuseMounted(path)).toBe(true);
    await m.next('released', (e) => e.whole);
  });

  it('gives each of 32 concurrent cats the whole content, 10 rounds', async () => {
    const path = placeholder();
    const m = mountAt(path, false);
    fuseSetContent(m.mount, Buffer.from(CONTENT), Date.now());
    for (let round = 0; round < 10; round++) {
      const results = await Promise.all(Array.from({ length: 32 }, () => run('cat', [path])));
      for (const r of results) {
        expect(r.code).toBe(0);
        expect(r.stdout).toBe(CONTENT.toString());
      }
    }
    const served = m.events.filter((e) => e.type === 'served');
    expect(served.length).toBe(320);
  });

  it('holds each open until JS answers, and readers in small pieces get whole copies of their own', async () => {
    const path = placeholder();
    const contents = new Map<number, string>();
    const m = mountAt(path, true, (e) => {
      if (e.type !== 'open') return;
      const text = `READER=${e.tgid}\n${CONTENT.toString()}`;
      contents.set(e.tgid, text);
      fuseFinishOpen(e.ticket, Buffer.from(text));
    });
    fuseSetContent(m.mount, Buffer.from(CONTENT), Date.now());
    // 7 bytes per read(2), until EOF.
    const pieces =
      'import os,sys\nfd=os.open(sys.argv[1],os.O_RDONLY)\nwhile b:=os.read(fd,7): sys.stdout.buffer.write(b)';
    const readers = Array.from({ length: 8 }, () => run('python3', ['-c', pieces, path]));
    for (const r of await Promise.all(readers)) {
      expect(r.code).toBe(0);
      const pid = Number(/^READER=(\d+)\n/.exec(r.stdout)?.[1]);
      expect(r.stdout).toBe(contents.get(pid));
    }
    expect(m.events.filter((e) => e.type === 'open')).toHaveLength(8);
  });

  it('keeps a reader waiting while its open is held, and serves others meanwhile', async () => {
    const path = placeholder();
    const m = mountAt(path, true);
    fuseSetContent(m.mount, Buffer.from('A=1\n'), Date.now());
    const held = startReader('cat', [path]);
    const open = await m.next('open', (e) => e.tgid === held.child.pid);
    // The session answers other requests while the open waits: a stat, and a second open held too.
    expect(statSync(path).size).toBe(4);
    const second = startReader('cat', [path]);
    const other = await m.next('open', (e) => e.tgid === second.child.pid);
    expect(held.child.exitCode).toBeNull();
    fuseFinishOpen(other.ticket, Buffer.from('B=2\n'));
    expect(await second.done).toBe('B=2\n');
    fuseFinishOpen(open.ticket, Buffer.from('A=1\n'));
    expect(await held.done).toBe('A=1\n');
    expect(() => fuseFinishOpen(open.ticket, null)).toThrow(expect.objectContaining({ code: 'EINVAL' }));
  });

  it('refuses an open JS answers with null (EACCES), and every open for writing', async () => {
    const path = placeholder();
    const m = mountAt(path, true, (e) => {
      if (e.type === 'open') fuseFinishOpen(e.ticket, null);
    });
    const r = await run('cat', [path]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/Permission denied/);
    const w = await run('python3', [
      '-c',
      `import os\ntry: os.open('${path}', os.O_RDWR)\nexcept OSError as e: print(e.errno)`,
    ]);
    expect(['13', '30']).toContain(w.stdout.trim()); // EACCES or EROFS
    expect(m.events.some((e) => e.type === 'open')).toBe(true);
  });

  it('answers a held open EIO when the mount stops, and leaves the placeholder', async () => {
    const path = placeholder();
    const m = mountAt(path, true);
    const reader = startReader('cat', [path]);
    await m.next('open');
    await unmount(m);
    await reader.done;
    expect(reader.child.exitCode).not.toBe(0);
    expect(fuseMounted(path)).toBe(false);
    expect(readFileSync('/proc/self/mountinfo', 'utf8')).not.toContain(path);
    const st = statSync(path);
    expect(st.isFile() && st.size === 0).toBe(true);
  });

  it('refuses a read through a handle passed to an unrelated process, and reports it', async () => {
    const path = placeholder();
    const m = mountAt(path, false);
    fuseSetContent(m.mount, Buffer.from('SECRET=1\n'), Date.now());
    const sock = `${path}.sock`;
    // The receiver is no descendant of the opener: it gets the descriptor over a unix socket (SCM_RIGHTS).
    const receiver = run('python3', [
      '-c',
      `import socket,os,sys
s=socket.socket(socket.AF_UNIX); s.bind(sys.argv[1]); s.listen(1); print('ready',flush=True)
c,_=s.accept(); msg,fds,_,_=socket.recv_fds(c,16,1)
try: os.read(fds[0],100); print('read')
except OSError as e: print(e.errno)`,
      sock,
    ]);
    const sender = `import socket,os,sys,time
for i in range(500):
  try: s=socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); break
  except OSError: time.sleep(0.02)
fd=os.open(sys.argv[2],os.O_RDONLY); socket.send_fds(s,[b'x'],[fd]); print(os.getpid())`;
    const sent = await run('python3', ['-c', sender, sock, path]);
    const got = await receiver;
    expect(got.stdout.trim().split('\n').at(-1)).toBe('13');
    const foreign = await m.next('foreign-read');
    expect(foreign.openerPid).toBe(Number(sent.stdout.trim()));
  });

  it('throws on arguments of the wrong kind, and mounts only on a regular file not mounted yet', async () => {
    const path = placeholder();
    const m = mountAt(path, false);
    const raw = native as unknown as Record<string, (...args: unknown[]) => unknown>;
    const BAD = [undefined, null, 0, -1, 1.5, '', '\0', {}, [], () => 0, Symbol('s'), 10n, Buffer.alloc(4)];
    const calls: [string, (bad: unknown) => unknown[]][] = [
      ['fuseMount', (bad) => [bad, { decide: false }, () => 0]],
      ['fuseMount', (bad) => [path, bad, () => 0]],
      ['fuseMount', (bad) => [path, { decide: false }, bad]],
      ['fuseSetContent', (bad) => [bad, Buffer.alloc(1), 0]],
      ['fuseSetContent', (bad) => [m.mount, bad === null || Buffer.isBuffer(bad) ? 1 : bad, 0]],
      ['fuseSetContent', (bad) => [m.mount, null, typeof bad === 'number' && bad >= 0 ? -1 : bad]],
      ['fuseSetDecide', (bad) => [bad, true]],
      ['fuseSetDecide', (bad) => [m.mount, bad]],
      ['fuseFinishOpen', (bad) => [bad, null]],
      ['fuseUnmount', (bad) => [bad]],
      ['fuseDetach', (bad) => [bad]],
      ['fuseMounted', (bad) => [bad]],
    ];
    let thrown = 0;
    for (const [name, args] of calls) {
      for (const bad of BAD) {
        try {
          raw[name]?.(...args(bad));
        } catch (error) {
          expect(error).toBeInstanceOf(Error);
          thrown++;
        }
      }
    }
    expect(thrown).toBe(calls.length * BAD.length);
    native.mkfifo(join(dirname(path), 'fifo'));
    const fifo = native.startMount(join(dirname(path), 'fifo'), `${path}.tmp`, 100, () => 0, Buffer.alloc(0), false);
    expect(() => native.fuseUnmount(fifo as unknown as native.FuseMount)).toThrow(TypeError);
    native.stopMount(fifo);
    expect(() => mountAt(path, false)).toThrow(expect.objectContaining({ code: 'EBUSY' }));
    mkdirSync(join(dirname(path), 'dir'));
    expect(() => mountAt(join(dirname(path), 'dir'), false)).toThrow(expect.objectContaining({ code: 'EINVAL' }));
    expect(() => mountAt(join(dirname(path), 'none'), false)).toThrow(expect.objectContaining({ code: 'ENOENT' }));
    fuseSetContent(m.mount, Buffer.from('A=1\n'), 0);
    expect(readFileSync(path, 'utf8')).toBe('A=1\n');
  });

  it('mounts in the background: `mounted`, then served; and a stop before the mount lands leaves nothing', async () => {
    const path = placeholder();
    const m = mountAt(path, false, undefined, true);
    fuseSetContent(m.mount, Buffer.from('B=1\n'), 0);
    await m.next('mounted');
    expect(readFileSync(path, 'utf8')).toBe('B=1\n');
    await unmount(m);
    expect(fuseMounted(path)).toBe(false);
    const early = mountAt(path, false, undefined, true);
    await unmount(early); // fuseUnmount at once: the thread mounts, sees the stop, unmounts
    expect(fuseMounted(path)).toBe(false);
    expect(statSync(path).size).toBe(0);
  });

  it('reports `stopped` with external when someone else unmounts it', async () => {
    const path = placeholder();
    const m = mountAt(path, false);
    const r = await run('umount', [path]);
    expect(r.code).toBe(0);
    expect(await m.next('stopped')).toMatchObject({ type: 'stopped', external: true });
    expect(fuseMounted(path)).toBe(false);
  });
});
