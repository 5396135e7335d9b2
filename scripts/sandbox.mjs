// A throwaway envmountd for the demo and the bench: temp home and XDG dirs, the built daemon started and ready,
// a CLI runner, and a stop that removes everything. Nothing of the user's is touched.
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** Spawns envmountd with `env` and resolves once it logs that it serves. */
async function spawnDaemon(env) {
  const child = spawn(process.execPath, [join(root, 'dist/bin/envmountd.js'), 'start'], {
    env,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const exited = new Promise((done) => child.once('exit', done));
  await new Promise((ready, fail) => {
    let log = '';
    child.stderr.setEncoding('utf8').on('data', (d) => {
      log += d;
      if (log.includes('envmountd started')) ready();
    });
    exited.then((code) => fail(new Error(`envmountd exited ${code}:\n${log}`)));
  });
  return { child, exited };
}

export async function startSandbox(prefix) {
  const tmp = mkdtempSync(`/tmp/${prefix}-`);
  const env = { PATH: process.env.PATH, HOME: tmp };
  for (const [name, sub] of [
    ['XDG_CONFIG_HOME', 'config'],
    ['XDG_STATE_HOME', 'state'],
    ['XDG_DATA_HOME', 'data'],
    ['XDG_RUNTIME_DIR', 'run'],
  ]) {
    env[name] = join(tmp, sub);
    mkdirSync(env[name], { mode: 0o700 });
  }
  let daemon;
  try {
    daemon = await spawnDaemon(env);
  } catch (error) {
    rmSync(tmp, { recursive: true, force: true });
    throw error;
  }
  return {
    tmp,
    env,
    /** Runs `envmount ARGS` with `input` on stdin; throws on a non-zero exit. */
    envmount(args, input, cwd) {
      const result = spawnSync(process.execPath, [join(root, 'dist/bin/envmount.js'), ...args], {
        env,
        cwd,
        input,
        encoding: 'utf8',
      });
      if (result.status !== 0) throw new Error(`envmount ${args.join(' ')} exited ${result.status}: ${result.stderr}`);
      return result;
    },
    /** The daemon's pid. */
    get pid() {
      return daemon.child.pid;
    },
    /** Stops the daemon: SIGTERM (a clean stop), or SIGKILL to play a crash (its pipes stay). */
    async stop(signal = 'SIGTERM') {
      daemon.child.kill(signal);
      await daemon.exited;
    },
    /** Starts the daemon again (after `stop`) with the same directories. */
    async restart() {
      daemon = await spawnDaemon(env);
    },
    remove() {
      rmSync(tmp, { recursive: true, force: true });
    },
  };
}
