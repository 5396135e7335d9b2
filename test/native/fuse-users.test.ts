/**
 * FUSE mounts across users and crashes (native/fuse-*.c): an unprivileged user mounts through fusermount3 and no
 * other user, root included, can read the mount (no allow_other); a mount whose process was killed fails fast
 * (ENOTCONN) and fuseDetach clears it, as root and as the user; fuseIdentity never waits for a session.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { chmodSync, chownSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { fuseDetach, fuseMounted } from '../../src/native/index.js';
import { killAll, ROOT, run, track, waitFor } from '../helpers/daemon.js';
import { FUSE_SKIP, fuseTitle } from '../helpers/fuse.js';
import { OTHER_USER } from '../helpers/other-user.js';

const NATIVE = pathToFileURL(join(ROOT, 'dist/native/index.js')).href;
/** Mounts argv[1] (creating the placeholder), prints `ready`, and unmounts when stdin ends; with argv[2] `leave`,
 * mounts deciding, prints `open` for each held open, and just lets its event loop run dry when stdin ends. */
const MOUNTER = `import(${JSON.stringify(NATIVE)}).then((n) => {
  const fs = require('fs');
  const [path, mode] = process.argv.slice(1);
  fs.closeSync(fs.openSync(path, 'wx', 0o600));
  const m = n.fuseMount(path, { decide: mode === 'leave' }, (e) => {
    if (e.type === 'stopped' || e.type === 'open') console.log(e.type);
  });
  n.fuseSetContent(m, Buffer.from('U=1\\n'), Date.now());
  console.log('ready ' + JSON.stringify(mode === 'leave' ? 'U=1\\n' : fs.readFileSync(path, 'utf8')));
  process.stdin.on('data', () => undefined);
  process.stdin.on('end', () => (mode === 'leave' ? process.stdin.destroy() : n.fuseUnmount(m)));
});`;

const asUser = (uid: number) => ['setpriv', `--reuid=${uid}`, `--regid=${uid}`, '--clear-groups', '--'];

function startMounter(
  path: string,
  uid?: number,
  mode = 'unmount',
): { child: ChildProcess; ready: Promise<string>; out: () => string } {
  const argv = [...(uid !== undefined ? asUser(uid) : []), process.execPath, '-e', MOUNTER, path, mode];
  const child = track(spawn(argv[0] as string, argv.slice(1), { stdio: ['pipe', 'pipe', 'inherit'] }));
  let out = '';
  const ready = new Promise<string>((resolve, reject) => {
    child.stdout?.setEncoding('utf8').on('data', (d: string) => {
      out += d;
      if (out.includes('\n')) resolve(out.split('\n')[0] as string);
    });
    child.on('exit', (code) => reject(new Error(`mounter exited ${code} before ready: ${out}`)));
  });
  return { child, ready, out: () => out };
}

let dir: string;
let devMode: number;
beforeAll(() => {
  if (FUSE_SKIP || !OTHER_USER) return;
  // /dev/fuse may be closed to other users (mode 0600 here): opened up for these tests, put back after.
  devMode = statSync('/dev/fuse').mode & 0o777;
  chmodSync('/dev/fuse', 0o666);
});
afterAll(() => {
  if (devMode !== undefined) chmodSync('/dev/fuse', devMode);
});
afterEach(async () => {
  await killAll();
  if (dir) {
    fuseDetach(join(dir, '.env'));
    rmSync(dir, { recursive: true, force: true });
  }
});

function userDir(uid: number): string {
  dir = mkdtempSync('/tmp/emt-fuse-user-');
  chmodSync(dir, 0o755);
  chownSync(dir, uid, uid);
  return join(dir, '.env');
}

describe.skipIf(FUSE_SKIP || !OTHER_USER)(
  fuseTitle('FUSE mounts of another user', FUSE_SKIP ?? (OTHER_USER ? undefined : 'not root: no other user to run as')),
  () => {
    const uid = OTHER_USER?.uid ?? 65534;

    it('mounts through fusermount3; neither root nor another user can read it; unmounts cleanly', async () => {
      const path = userDir(uid);
      const mounter = startMounter(path, uid);
      expect(await mounter.ready).toBe('ready "U=1\\n"');
      expect(fuseMounted(path)).toBe(true);
      expect(() => readFileSync(path)).toThrow(expect.objectContaining({ code: 'EACCES' }));
      const other = await run(asUser(uid - 1)[0] as string, [...asUser(uid - 1).slice(1), 'cat', path]);
      expect(other.code).not.toBe(0);
      expect(other.stderr).toMatch(/Permission denied/);
      mounter.child.stdin?.end();
      await new Promise((resolve) => mounter.child.once('exit', resolve));
      expect(mounter.out()).toContain('stopped');
      expect(fuseMounted(path)).toBe(false);
      expect(statSync(path).isFile()).toBe(true); // the placeholder is the caller's to remove
    });

    it('a killed mounter leaves a mount that fails fast (ENOTCONN); the user detaches it', async () => {
      const path = userDir(uid);
      const mounter = startMounter(path, uid);
      await mounter.ready;
      mounter.child.kill('SIGKILL');
      await new Promise((resolve) => mounter.child.once('exit', resolve));
      const stale = await run(asUser(uid)[0] as string, [...asUser(uid).slice(1), 'cat', path]);
      expect(stale.stderr).toMatch(/Transport endpoint is not connected/);
      expect(fuseMounted(path)).toBe(true);
      const detach = `import(${JSON.stringify(NATIVE)}).then((n) => { n.fuseDetach(process.argv[1]); n.fuseDetach(process.argv[1]); console.log(n.fuseMounted(process.argv[1])); })`;
      const r = await run(asUser(uid)[0] as string, [...asUser(uid).slice(1), process.execPath, '-e', detach, path]);
      expect(r.stdout).toBe('false\n');
      expect(fuseMounted(path)).toBe(false);
    });
  },
);

describe.skipIf(FUSE_SKIP)(fuseTitle('a FUSE mount whose process died'), () => {
  it('a process ending without fuseUnmount leaves no mount, and its held open gets an error', async () => {
    dir = mkdtempSync('/tmp/emt-fuse-end-');
    const path = join(dir, '.env');
    const mounter = startMounter(path, undefined, 'leave');
    await mounter.ready;
    const reader = run('cat', [path]);
    await waitFor(() => mounter.out().includes('\nopen\n'));
    mounter.child.stdin?.end();
    const code = await new Promise((resolve) => mounter.child.once('exit', resolve));
    expect(code).toBe(0);
    expect((await reader).code).not.toBe(0);
    expect(fuseMounted(path)).toBe(false);
  });

  it('fuseIdentity answers from the kernel cache: a stopped session does not hold it up, as it holds lstat', async () => {
    dir = mkdtempSync('/tmp/emt-fuse-id-');
    const path = join(dir, '.env');
    const mounter = startMounter(path);
    await mounter.ready;
    const live = statSync(path); // answered while the mounter runs
    mounter.child.kill('SIGSTOP');
    try {
      const identity = `import(${JSON.stringify(NATIVE)}).then((n) => console.log(JSON.stringify(n.fuseIdentity(process.argv[1]))))`;
      const seen = await run(process.execPath, ['-e', identity, path], { timeoutMs: 10_000 });
      expect(seen.stderr).toBe('');
      expect(JSON.parse(seen.stdout)).toEqual({ dev: live.dev, ino: live.ino });
      // The control: a stat goes to the stopped session and waits until killed.
      const stat = await run('stat', [path], { timeoutMs: 1000 });
      expect(stat.signal).toBe('SIGKILL');
    } finally {
      mounter.child.kill('SIGCONT');
    }
    mounter.child.stdin?.end();
    await new Promise((resolve) => mounter.child.once('exit', resolve));
    expect(fuseMounted(path)).toBe(false);
  });

  it('fails fast with ENOTCONN and fuseDetach (root) clears it', async () => {
    dir = mkdtempSync('/tmp/emt-fuse-crash-');
    const path = join(dir, '.env');
    const mounter = startMounter(path);
    expect(await mounter.ready).toBe('ready "U=1\\n"');
    mounter.child.kill('SIGKILL');
    await new Promise((resolve) => mounter.child.once('exit', resolve));
    expect(() => statSync(path)).toThrow(expect.objectContaining({ code: 'ENOTCONN' }));
    fuseDetach(path);
    expect(fuseMounted(path)).toBe(false);
    expect(statSync(path).isFile()).toBe(true);
    fuseDetach(path); // not mounted: nothing to do
  });
});
