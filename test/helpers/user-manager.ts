/**
 * A real systemd user manager beside the tests (scripts/with-user-systemd.sh, root only): started with the test's
 * environment, stopped (with every unit it runs, and the namespace its units' mounts live in) by `stop`.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { ROOT, track } from './daemon.js';

const WRAPPER = join(ROOT, 'scripts/with-user-systemd.sh');

export interface UserManager {
  /** The manager's pid (`nsenter -t PID -m` enters its mount namespace). */
  readonly pid: number;
  /** Closes the wrapper's stdin, which stops the manager and its units; SIGKILL after 30 s. Idempotent. */
  stop(): Promise<void>;
}

/** Starts the manager with `env` (HOME, XDG_*; WITH_USER_SYSTEMD_UID for another user's) and waits until it answers. */
export async function startUserManager(env: NodeJS.ProcessEnv): Promise<UserManager> {
  const wrapper: ChildProcess = track(
    spawn(WRAPPER, ['sh', '-c', 'echo "$WITH_USER_SYSTEMD_PID"; exec cat'], { env, stdio: ['pipe', 'pipe', 'pipe'] }),
  );
  let said = '';
  wrapper.stderr?.on('data', (b: Buffer) => {
    said += b.toString();
  });
  const pid = await new Promise<number>((resolve, reject) => {
    wrapper.stdout?.once('data', (b: Buffer) => resolve(Number(b.toString().trim())));
    wrapper.once('exit', (code) => reject(new Error(`with-user-systemd exited ${code}: ${said}`)));
  });
  return {
    pid,
    async stop() {
      if (wrapper.exitCode !== null || wrapper.signalCode !== null) return;
      const exited = new Promise((resolve) => wrapper.once('exit', resolve));
      wrapper.stdin?.end();
      const timer = setTimeout(() => wrapper.kill('SIGKILL'), 30_000);
      await exited;
      clearTimeout(timer);
    },
  };
}
