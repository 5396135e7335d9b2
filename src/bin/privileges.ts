/**
 * How fusermount3 runs for the FUSE backend, decided by what this process's service unit allows: no_new_privs
 * (systemd's NoNewPrivileges=yes, implied by every seccomp setting of a user unit) keeps the setuid fusermount3
 * from gaining root.
 */
import { readFile } from 'node:fs/promises';
import { noNewPrivsIn } from '../core/proc-status.js';
import type { FuseRunner } from '../native/index.js';
import { locateCommand } from '../run/locate.js';

/** Whether this process runs with no_new_privs; every program it starts inherits it. */
export async function noNewPrivileges(): Promise<boolean> {
  return noNewPrivsIn(await readFile('/proc/self/status', 'utf8').catch(() => '')) === true;
}

/**
 * undefined (fusermount3 run directly, as libfuse does) unless this is an unprivileged process under no_new_privs.
 * There, the user's systemd manager runs it as a transient unit, outside the sandbox: what any program of the user
 * may ask of its manager, so the sandbox loses nothing it had. Without a manager to ask (no systemd-run, no
 * XDG_RUNTIME_DIR), FUSE mounts fail and say why.
 */
export async function fuseRunner(
  env: Readonly<Record<string, string | undefined>>,
  uid: number,
): Promise<FuseRunner | undefined> {
  if (process.platform !== 'linux' || uid === 0 || !env.XDG_RUNTIME_DIR) return undefined;
  if (!(await noNewPrivileges())) return undefined;
  const systemdRun = await locateCommand('systemd-run', '/', env.PATH).catch(() => undefined);
  if (!systemdRun) return undefined;
  const run = [systemdRun, '--user', '--quiet', '--pipe', '--wait', '--collect'];
  return { mount: [...run, '-E', '_FUSE_COMMFD=0', '--'], unmount: [...run, '--'] };
}
