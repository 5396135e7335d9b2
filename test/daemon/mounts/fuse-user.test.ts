/**
 * The FUSE backend of an unprivileged user's daemon (as root: `nobody`, uid 65534, with XDG_* dirs of its own): the
 * real envmountd mounts through the setuid fusermount3 on `envmount add DIR --backend fuse` run as that user; that
 * user reads the values; root and a third user (uid 65533) get EACCES from the kernel (no allow_other); `remove`
 * and a clean stop leave no mount in /proc/self/mountinfo. /dev/fuse is 0600 here: opened up for this file and
 * put back in afterAll.
 */
import { chmodSync, existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { killAll, run, TestDaemon } from '../../helpers/daemon.js';
import { FUSE_SKIP, fuseTitle } from '../../helpers/fuse.js';
import { installReachableBy, OTHER_USER } from '../../helpers/other-user.js';

const VALUE = 'fuse-user-canary-41c9';
const THIRD = 65533;
const SKIP = FUSE_SKIP ?? (OTHER_USER ? undefined : 'not root: no other user to run as');

/** Whether anything is mounted at `path` (mountinfo's 5th field, spaces escaped as \040), seen from root. */
function mountedAt(path: string): boolean {
  return readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .some((line) => line.split(' ')[4]?.replace(/\\040/g, ' ') === path);
}

const asThird = (argv: string[]) =>
  run('setpriv', [`--reuid=${THIRD}`, `--regid=${THIRD}`, '--clear-groups', '--', ...argv]);

let install: { path: string; unbind: () => void } | undefined;
let devMode: number | undefined;
let daemon: TestDaemon | undefined;

beforeAll(() => {
  if (SKIP) return;
  // /dev/fuse may be closed to other users (mode 0600 here): opened up for this file, put back in afterAll.
  devMode = statSync('/dev/fuse').mode & 0o777;
  chmodSync('/dev/fuse', 0o666);
  install = installReachableBy(OTHER_USER);
});

afterAll(async () => {
  try {
    // The daemon first (a clean stop unmounts; dispose detaches what is left), then any reader.
    await daemon?.dispose();
    await killAll();
  } finally {
    install?.unbind();
    if (devMode !== undefined) chmodSync('/dev/fuse', devMode);
  }
});

describe.skipIf(SKIP)(fuseTitle("an unprivileged user's daemon with FUSE mounts", SKIP), () => {
  it('mounts through fusermount3; the user reads; root and a third user get EACCES; remove and stop unmount', async () => {
    const user = OTHER_USER ?? { uid: 65534, gid: 65534 };
    const d = new TestDaemon({ user, install: install?.path });
    daemon = d;
    await d.start();
    expect((await d.cli(['set', 'TOKEN', '--raw'], { input: VALUE })).code).toBe(0);

    // Two projects: one removed, one left for the daemon's stop to unmount.
    const dirs = ['removed', 'stopped'].map((name) => d.project(name, 'TOKEN=envmount://TOKEN\n'));
    // The third user can reach the directories (the daemon's temp root is 0700) and read a plain file there:
    // an EACCES on .env is then the mount's, not the path's.
    for (const dir of [d.root, d.dirs.projects, ...dirs]) chmodSync(dir, 0o711);
    for (const dir of dirs) {
      writeFileSync(join(dir, 'probe'), 'readable\n', { mode: 0o644 });
      const added = await d.cli(['add', dir, '--backend', 'fuse', '--allow', 'any']);
      expect(added.stderr).toBe('');
      expect(added.code).toBe(0);
      expect(added.stdout).toContain('backend:   fuse');
    }
    const paths = dirs.map((dir) => join(dir, '.env'));

    for (const path of paths) {
      expect(mountedAt(path)).toBe(true);
      // The daemon's user reads the values.
      const own = await run('cat', [path], { ...user, env: { PATH: process.env.PATH } });
      expect(own.stderr).toBe('');
      expect(own.stdout).toBe(`TOKEN='${VALUE}'\n`);
      // Root: the kernel refuses (no allow_other), whatever root's capabilities.
      expect(() => readFileSync(path)).toThrow(expect.objectContaining({ code: 'EACCES' }));
      // A third user reaches the directory but not the mount.
      expect((await asThird(['cat', join(path, '..', 'probe')])).stdout).toBe('readable\n');
      const third = await asThird(['cat', path]);
      expect(third.code).not.toBe(0);
      expect(third.stderr).toMatch(/Permission denied/);
      expect(third.stdout).not.toContain(VALUE);
    }
    // The daemon's mounts are its user's: fusermount3 records user_id=65534 in the mount's options.
    const line = readFileSync('/proc/self/mountinfo', 'utf8')
      .split('\n')
      .find((l) => l.split(' ')[4] === paths[0]);
    expect(line).toMatch(new RegExp(`user_id=${user.uid}\\b`));

    const removedDir = dirs[0] as string;
    const [removed, stopped] = paths as [string, string];
    expect((await d.cli(['remove', removedDir])).code).toBe(0);
    expect(mountedAt(removed)).toBe(false);
    expect(existsSync(removed)).toBe(false);
    expect(mountedAt(stopped)).toBe(true);

    expect(await d.stop()).toBe(0);
    expect(mountedAt(stopped)).toBe(false);
    expect(existsSync(stopped)).toBe(false);
  });
});
