/**
 * What this process may do that its service unit decides: no_new_privs (systemd's NoNewPrivileges=yes, implied by
 * every seccomp setting of a user unit), and so how fusermount3 runs for the FUSE backend.
 */
import { accessSync, constants, readFileSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import type { FuseRunner } from '../native/index.js';

/** Whether this process runs with no_new_privs; every program it starts inherits it. */
export function noNewPrivileges(): boolean {
  try {
    return readFileSync('/proc/self/status', 'utf8')
      .split('\n')
      .some((line) => line.startsWith('NoNewPrivs:') && line.slice('NoNewPrivs:'.length).trim() === '1');
  } catch {
    return false;
  }
}

function onPath(command: string, path: string | undefined): boolean {
  return (path ?? '').split(delimiter).some((dir) => {
    try {
      accessSync(join(dir, command), constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

/**
 * How fusermount3 runs for this daemon: undefined (directly, as libfuse does) unless this is an unprivileged
 * process under no_new_privs, where the setuid fusermount3 cannot gain root. There, the user's systemd manager
 * runs it as a transient unit, outside the sandbox: what any program of the user may ask of its manager, so the
 * sandbox loses nothing it had. Without a manager to ask (no systemd-run, no XDG_RUNTIME_DIR), FUSE mounts fail
 * and say why.
 */
export function fuseRunner(env: Readonly<Record<string, string | undefined>>, uid: number): FuseRunner | undefined {
  if (process.platform !== 'linux' || uid === 0 || !noNewPrivileges()) return undefined;
  if (!env.XDG_RUNTIME_DIR || !onPath('systemd-run', env.PATH)) return undefined;
  const run = ['systemd-run', '--user', '--quiet', '--pipe', '--wait', '--collect'];
  return { mount: [...run, '-E', '_FUSE_COMMFD=0', '--'], unmount: [...run, '--'] };
}
