/**
 * Integration harness: a real envmountd process in a temp root with XDG_* pointed there, the real CLI, and
 * bookkeeping so that every process and FIFO a test starts is gone when it ends.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { chownSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ControlClient } from '../../src/control/client.js';

export const ROOT = resolve(import.meta.dirname, '../..');
export const DAEMON = join(ROOT, 'dist/bin/envmountd.js');
export const CLI = join(ROOT, 'dist/bin/envmount.js');

export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

const children = new Set<ChildProcess>();

export interface RunOptions {
  env?: NodeJS.ProcessEnv;
  input?: string | Buffer;
  cwd?: string;
  uid?: number;
  gid?: number;
  /** SIGKILL after this long (default 20 s): a reader stuck on a FIFO must never hang the suite. */
  timeoutMs?: number;
}

/** Runs a command to completion; its input goes through stdin. Tracked: killed by `killAll` if still running. */
export function run(command: string, args: readonly string[], options: RunOptions = {}): Promise<RunResult> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(command, args, {
      env: options.env ?? process.env,
      cwd: options.cwd,
      stdio: ['pipe', 'pipe', 'pipe'],
      ...(options.uid !== undefined ? { uid: options.uid, gid: options.gid } : {}),
    });
    children.add(child);
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      stdout += d;
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      stderr += d;
    });
    child.on('error', reject);
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 20_000);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      children.delete(child);
      resolvePromise({ code, signal, stdout, stderr });
    });
    // A reader like `cat FILE` exits without reading stdin; EPIPE on it is expected.
    child.stdin.on('error', () => undefined);
    child.stdin.end(options.input ?? '');
  });
}

/** Starts a long-running process (a reader that blocks, say); tracked like `run`. */
export function track(child: ChildProcess): ChildProcess {
  children.add(child);
  child.on('exit', () => children.delete(child));
  return child;
}

export async function killAll(): Promise<void> {
  const waits = [...children].map(
    (child) =>
      new Promise<void>((done) => {
        if (child.exitCode !== null || child.signalCode !== null) return done();
        child.once('exit', () => done());
        child.kill('SIGKILL');
      }),
  );
  await Promise.all(waits);
  children.clear();
}

/** What the sanitizer tier (scripts/sanitize.sh) sets for this process, passed on to the daemons and CLIs started
 * with their own environment: the addon it built needs libasan preloaded, and reports go to its log directory. */
export const SANITIZER_VARIABLES = ['LD_PRELOAD', 'ASAN_OPTIONS', 'UBSAN_OPTIONS', 'ENVMOUNT_TEST_SANITIZER'] as const;

/** UBSan beside ASan writes its reports to stderr whatever UBSAN_OPTIONS says: the tier's check reads them from the
 * daemon's log, kept in its log directory. */
function keepSanitizerReports(log: string): void {
  const dir = process.env.ENVMOUNT_TEST_SANITIZER_LOGS;
  const reports = log.split('\n').filter((line) => line.includes('runtime error:'));
  if (dir && reports.length > 0)
    writeFileSync(join(dir, `ubsan.daemon.${process.pid}.${Date.now()}`), reports.join('\n'));
}

export function sanitizerEnv(): NodeJS.ProcessEnv {
  return Object.fromEntries(
    SANITIZER_VARIABLES.filter((name) => process.env[name]).map((name) => [name, process.env[name]]),
  );
}

/** Under the sanitizer tier, mlock() always succeeds (ASan intercepts it): tests of "not lockable" must know. */
export const UNDER_ASAN = process.env.ENVMOUNT_TEST_SANITIZER === 'asan';

export class TestDaemon {
  readonly root: string;
  readonly env: NodeJS.ProcessEnv;
  readonly dirs: { config: string; state: string; data: string; runtime: string; home: string; projects: string };
  process: ChildProcess | undefined;
  log = '';

  /** The user the daemon and the CLI run as (root's tests run them unprivileged this way); undefined: ours. */
  readonly user: { readonly uid: number; readonly gid: number } | undefined;
  /** The install the daemon and the CLI run from (another user may need the repository at a path it can reach). */
  readonly install: string;

  constructor(options: { user?: { uid: number; gid: number }; install?: string } = {}) {
    this.user = options.user;
    this.install = options.install ?? ROOT;
    // Short root: unix socket paths are limited to about 100 bytes.
    this.root = mkdtempSync('/tmp/emt-');
    const dirs = {
      config: join(this.root, 'config'),
      state: join(this.root, 'state'),
      data: join(this.root, 'data'),
      runtime: join(this.root, 'run'),
      home: join(this.root, 'home'),
      projects: join(this.root, 'p'),
    };
    for (const dir of Object.values(dirs)) mkdirSync(dir, { recursive: true, mode: 0o700 });
    if (this.user) for (const dir of [this.root, ...Object.values(dirs)]) chownSync(dir, this.user.uid, this.user.gid);
    this.dirs = dirs;
    this.env = {
      PATH: process.env.PATH,
      HOME: dirs.home,
      XDG_CONFIG_HOME: dirs.config,
      XDG_STATE_HOME: dirs.state,
      XDG_DATA_HOME: dirs.data,
      XDG_RUNTIME_DIR: dirs.runtime,
      ENVMOUNT_LOG_LEVEL: 'debug',
      ...sanitizerEnv(),
    };
  }

  get socketPath(): string {
    return join(this.dirs.runtime, 'envmount', 'envmountd.sock');
  }

  /**
   * Starts envmountd and resolves when it logs that it serves (or rejects with its log if it exits first).
   * `memlock`: its RLIMIT_MEMLOCK in bytes (through prlimit).
   */
  start(extraEnv: NodeJS.ProcessEnv = {}, options: { memlock?: number } = {}): Promise<void> {
    const argv = [process.execPath, join(this.install, 'dist/bin/envmountd.js'), 'start'];
    if (options.memlock !== undefined) argv.unshift('prlimit', `--memlock=${options.memlock}:${options.memlock}`);
    const [command = '', ...args] = argv;
    const child = track(
      spawn(command, args, {
        env: { ...this.env, ...extraEnv },
        stdio: ['ignore', 'ignore', 'pipe'],
        ...this.user,
      }),
    );
    this.process = child;
    return new Promise((resolvePromise, reject) => {
      let ready = false;
      let own = ''; // this run's log: `log` keeps earlier runs' too
      child.stderr?.setEncoding('utf8').on('data', (d: string) => {
        this.log += d;
        own += d;
        if (!ready && own.includes('"msg":"envmountd started"')) {
          ready = true;
          resolvePromise();
        }
      });
      child.once('exit', (code, signal) => {
        if (!ready) reject(new Error(`envmountd exited with ${code} before it was ready:\n${this.log}`));
        // Exited of its own accord (no signal sent by a test): its last words go to the test output, or a later
        // "envmountd is not running" is all a CI log would show.
        else if (signal === null && code !== 0)
          process.stderr.write(
            `envmountd (pid ${child.pid}) exited with ${code}; its log ends:\n${own.split('\n').slice(-40).join('\n')}\n`,
          );
      });
    });
  }

  /** SIGTERM and wait for exit; returns the exit code. */
  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<number | null> {
    const child = this.process;
    if (!child || child.exitCode !== null || child.signalCode !== null) return child?.exitCode ?? null;
    const exited = new Promise<number | null>((done) => child.once('exit', (code) => done(code)));
    child.kill(signal);
    return exited;
  }

  cli(args: readonly string[], options: Omit<RunOptions, 'env'> = {}): Promise<RunResult> {
    // Run as installed: through the shebang, which keeps Node 20 from opening `--env-file FILE` given to us.
    return run(join(this.install, 'dist/bin/envmount.js'), args, { env: this.env, ...this.user, ...options });
  }

  async client(): Promise<ControlClient> {
    return ControlClient.connect(this.socketPath);
  }

  project(name: string, template?: string): string {
    const dir = join(this.dirs.projects, name);
    mkdirSync(dir, { recursive: true });
    if (template !== undefined) writeTemplate(dir, template);
    if (this.user) for (const path of readdirSync(dir)) chownSync(join(dir, path), this.user.uid, this.user.gid);
    if (this.user) chownSync(dir, this.user.uid, this.user.gid);
    return dir;
  }

  /** Stops the daemon (SIGKILL if it will not stop), then removes the whole temp root. */
  async dispose(): Promise<void> {
    try {
      const child = this.process;
      if (child && child.exitCode === null && child.signalCode === null) {
        const exited = new Promise<void>((done) => child.once('exit', () => done()));
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
        await exited;
        clearTimeout(timer);
      }
    } finally {
      keepSanitizerReports(this.log);
      detachMountsUnder(this.root);
      rmSync(this.root, { recursive: true, force: true });
    }
  }
}

/** FUSE mounts a killed daemon left under `root` (they answer ENOTCONN and make rmSync fail with EBUSY): detached
 * (`umount -l`; `fusermount3 -uz` for a user), so that the temp root can go. */
function detachMountsUnder(root: string): void {
  let info = '';
  try {
    info = readFileSync('/proc/self/mountinfo', 'utf8');
  } catch {
    return;
  }
  for (const line of info.split('\n')) {
    const target = line.split(' ')[4]?.replace(/\\040/g, ' ');
    if (!target?.startsWith(`${root}/`)) continue;
    const done = spawnSync('umount', ['-l', target]);
    if (done.status !== 0) spawnSync('fusermount3', ['-uz', target]);
  }
}

export function writeTemplate(dir: string, text: string): void {
  writeFileSync(join(dir, '.env.op'), text);
}

/** Names in a directory, for "nothing left behind" checks. */
export function listDir(dir: string): string[] {
  return readdirSync(dir).sort();
}

/** Runs a Node script (`node -e`) with the daemon's environment; for readers written in JS. */
export function node(script: string, options: RunOptions = {}): Promise<RunResult> {
  return run(process.execPath, ['-e', script], options);
}

/**
 * Resolves once the process is blocked in open() on a FIFO, waiting for a writer (the kernel's wait_for_partner).
 * Polls /proc in 5 ms steps for at most `timeoutMs`; rejects if the process never gets there.
 */
export async function blockedInFifoOpen(pid: number, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    let wchan = '';
    try {
      wchan = readFileSync(`/proc/${pid}/wchan`, 'utf8');
    } catch {}
    if (wchan === 'wait_for_partner') return;
    if (Date.now() > deadline) throw new Error(`process ${pid} did not block in a FIFO open (wchan "${wchan}")`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/**
 * Resolves with the first truthy value of `probe`, checked every 20 ms. `timeoutMs` only guards against a hang (a
 * busy machine may take seconds per CLI call): it is no deadline of the thing awaited, which no test asserts.
 */
export async function waitFor<T>(probe: () => Promise<T | undefined> | T | undefined, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`condition not reached within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Starts a command that keeps running (a reader waiting for approval); its output arrives with `done`. */
export function startReader(
  command: string,
  args: readonly string[],
  options: { env?: NodeJS.ProcessEnv; cwd?: string } = {},
) {
  const child = track(
    spawn(command, args, { env: options.env ?? process.env, cwd: options.cwd, stdio: ['ignore', 'pipe', 'pipe'] }),
  );
  let out = '';
  child.stdout?.setEncoding('utf8').on('data', (d: string) => {
    out += d;
  });
  const done = new Promise<string>((resolve) => child.on('close', () => resolve(out)));
  return { child, done };
}
