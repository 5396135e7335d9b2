/**
 * FUSE mounts from the service of an ordinary user: scripts/with-user-systemd.sh runs `systemd --user` as uid 65534
 * (WITH_USER_SYSTEMD_UID), so the unit's seccomp settings imply NoNewPrivileges and the setuid fusermount3 cannot
 * gain root inside it. The daemon asks the user manager to run fusermount3 (`systemd-run --user`, fuse-runner.c)
 * and serves the /dev/fuse descriptor it sends back. Mounts made by the manager's units live in the wrapper's mount
 * namespace: readers run there (`nsenter -m`). Needs root (the namespace, the user), systemd and FUSE.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { killAll, run, TestDaemon, waitFor } from '../helpers/daemon.js';
import { FUSE_SKIP } from '../helpers/fuse.js';
import { installReachableBy, OTHER_USER } from '../helpers/other-user.js';
import { startUserManager, type UserManager } from '../helpers/user-manager.js';

const has = (command: string) => spawnSync('sh', ['-c', `command -v ${command}`]).status === 0;

function skipReason(): string | undefined {
  if (process.platform !== 'linux') return 'systemd is Linux only';
  if (!OTHER_USER) return 'needs root (a user manager of another user, in a private mount namespace)';
  if (!existsSync('/lib/systemd/systemd') || !has('systemd-run')) return 'systemd is not installed';
  if (!existsSync('/usr/lib/systemd/user/dbus.socket'))
    return 'no D-Bus user bus units (apt-get install dbus-user-session)';
  if (!has('nsenter')) return 'nsenter (util-linux) is not installed';
  return FUSE_SKIP;
}
const skip = skipReason();
const user = OTHER_USER ?? { uid: 65534, gid: 65534 };
const VALUE = 'fuse-service-value';

describe.skipIf(skip !== undefined)(
  skip ? `FUSE under an ordinary user's service: skipped, ${skip}` : "FUSE under an ordinary user's service",
  () => {
    const install = installReachableBy(user);
    const d = new TestDaemon({ user, install: install.path });
    let manager: UserManager | undefined;
    let managerPid = 0;
    let devMode: number | undefined;
    const dir = () => join(d.dirs.projects, 'app');
    const env = () => d.env;
    const systemctl = (...args: string[]) => run('systemctl', ['--user', ...args], { env: env(), ...user });
    /** Reads `path` in the manager's mount namespace as `uid` (root when undefined): its output and exit code. */
    const readThere = (path: string, uid?: number) =>
      run('nsenter', [
        '-t',
        String(managerPid),
        '-m',
        '--',
        ...(uid === undefined ? [] : ['setpriv', `--reuid=${uid}`, `--regid=${uid}`, '--clear-groups']),
        'cat',
        path,
      ]);
    const mountedThere = (path: string) =>
      readFileSync(`/proc/${managerPid}/mountinfo`, 'utf8')
        .split('\n')
        .some((line) => line.split(' ')[4] === path && line.includes(' fuse.envmount '));

    beforeAll(async () => {
      // /dev/fuse may be closed to other users (mode 0600 here): opened up for these tests, put back after.
      devMode = statSync('/dev/fuse').mode & 0o777;
      chmodSync('/dev/fuse', 0o666);
      // The project's directories are passable by others: a third user's refusal must come from the mount.
      chmodSync(d.root, 0o711);
      chmodSync(d.dirs.projects, 0o711);
      manager = await startUserManager({ ...d.env, WITH_USER_SYSTEMD_UID: String(user.uid) });
      managerPid = manager.pid;
    }, 60_000);

    afterAll(async () => {
      try {
        // The manager stops its units; the namespace and its mounts go with it.
        await manager?.stop();
        await killAll();
        await d.dispose();
      } finally {
        if (devMode !== undefined) chmodSync('/dev/fuse', devMode);
        install.unbind();
      }
    }, 60_000);

    it('the service mounts through the user manager: the user reads the values; root and another user get EACCES', async () => {
      const installed = await d.cli(['service', 'install']);
      expect(installed.stderr).toBe('');
      expect(installed.code).toBe(0);
      const pid = Number((await systemctl('show', 'envmountd.service', '-p', 'MainPID', '--value')).stdout.trim());
      // The daemon runs as the user, under no_new_privs: the setuid fusermount3 would not gain root in it.
      expect(readFileSync(`/proc/${pid}/status`, 'utf8')).toMatch(/^NoNewPrivs:\s+1$/m);
      expect(readFileSync(`/proc/${pid}/status`, 'utf8')).toMatch(new RegExp(`^Uid:\\s+${user.uid}\\s`, 'm'));
      expect((await d.cli(['set', 'A'], { input: VALUE })).code).toBe(0);
      d.project('app', 'A=envmount://A\n');
      const added = await d.cli(['add', dir(), '--backend', 'fuse', '--allow', 'any']);
      expect(added.stderr).toBe('');
      expect(added.code).toBe(0);
      const path = join(dir(), '.env');
      expect(mountedThere(path)).toBe(true);
      const mine = await readThere(path, user.uid);
      expect(mine.stdout).toContain(VALUE);
      const root = await readThere(path);
      expect(root.code).not.toBe(0);
      expect(root.stderr).toContain('Permission denied');
      expect(root.stdout).not.toContain(VALUE);
      const other = await readThere(path, user.uid - 1);
      expect(other.code).not.toBe(0);
      expect(other.stderr).toContain('Permission denied');
    }, 90_000);

    it('kill -9: the restarted daemon detaches the dead mount through the manager and serves again', async () => {
      const path = join(dir(), '.env');
      const show = async () => (await systemctl('show', 'envmountd.service', '-p', 'MainPID', '--value')).stdout.trim();
      const pid = Number(await show());
      expect(pid).toBeGreaterThan(0);
      process.kill(pid, 'SIGKILL');
      await waitFor(async () => {
        const now = Number(await show());
        return (now > 0 && now !== pid) || undefined;
      }, 30_000);
      await waitFor(async () => (await readThere(path, user.uid)).stdout.includes(VALUE) || undefined, 30_000);
      expect(mountedThere(path)).toBe(true);
    }, 90_000);

    it('remove unmounts through the manager and leaves no placeholder; uninstall stops the daemon', async () => {
      const path = join(dir(), '.env');
      const removed = await d.cli(['remove', dir()]);
      expect(removed.code).toBe(0);
      expect(mountedThere(path)).toBe(false);
      expect(existsSync(path)).toBe(false);
      const uninstalled = await d.cli(['service', 'uninstall']);
      expect(uninstalled.code).toBe(0);
      expect(existsSync(d.socketPath)).toBe(false);
    }, 60_000);
  },
);
