/**
 * Who `envmount run` is judged as: the command it will run, never envmount's own node process. The client sends the
 * resolved command; this checks it against what the kernel says about the peer of the control socket: the peer
 * must be node running envmount's own CLI script with no code loaded before it, its command line must end with that
 * very command, and the executable must be what the command's name resolves to on the peer's own PATH (from
 * /proc/PID/environ) in its working directory. A peer that is not envmount's CLI is judged as itself. What this
 * proves and does not: THREAT-MODEL.md ("envmount run").
 */
import { accessSync, closeSync, constants, openSync, readFileSync, readSync, realpathSync, statSync } from 'node:fs';
import { delimiter, isAbsolute, join, resolve } from 'node:path';
import type { Params } from '../../control/protocol.js';
import { EnvmountError } from '../../core/errors.js';
import { basenameOf, scriptOf } from '../../core/reader-identity.js';
import { preloadsOf, runCommandOf } from '../../core/run-command-line.js';
import type { ProcessInfo } from '../readers/process-info.js';
import { PROC_DESCRIBER, type ProcessDescriber } from '../readers/reader-facts.js';

function real(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    return path;
  }
}

/** NODE_OPTIONS and PATH of a process (/proc/PID/environ); nothing else of its environment, which may hold secrets
 * of the user's, is kept: the bytes read are zeroed. */
function environ(pid: number): Map<string, string> | undefined {
  let raw: Buffer;
  try {
    raw = readFileSync(`/proc/${pid}/environ`);
  } catch {
    return undefined;
  }
  try {
    const wanted = new Map<string, string>();
    let start = 0;
    while (start < raw.length) {
      const nul = raw.indexOf(0, start);
      const end = nul === -1 ? raw.length : nul;
      for (const name of ['NODE_OPTIONS', 'PATH']) {
        const prefix = `${name}=`;
        if (end - start >= prefix.length && raw.toString('latin1', start, start + prefix.length) === prefix)
          wanted.set(name, raw.toString('utf8', start + prefix.length, end));
      }
      start = end + 1;
    }
    return wanted;
  } finally {
    raw.fill(0);
  }
}

function executable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

/** What `name` resolves to, as a shell would: as given when it holds a slash, else the first match on PATH. */
function locate(name: string, cwd: string, path: string | undefined): string | undefined {
  if (name.includes('/')) return isAbsolute(name) ? name : resolve(cwd, name);
  for (const dir of (path ?? '').split(delimiter)) {
    const candidate = resolve(cwd, join(dir || '.', name));
    if (executable(candidate)) return candidate;
  }
  return undefined;
}

/**
 * What the kernel will run for `file`: a `#!` script runs its interpreter with the script as an argument (as
 * /proc shows it once started); `#!/usr/bin/env NAME` finds NAME on PATH.
 */
function throughShebang(file: string, argv: readonly string[], cwd: string, path: string | undefined) {
  let head = '';
  // Only a regular file is opened, and without blocking: a FIFO put there must not hold the daemon.
  if (!executable(file)) return { exe: file, argv };
  let fd: number | undefined;
  try {
    fd = openSync(real(file), constants.O_RDONLY | constants.O_NONBLOCK);
    const buffer = Buffer.alloc(256);
    head = buffer.subarray(0, readSync(fd, buffer, 0, 256, 0)).toString('latin1');
  } catch {
    return { exe: file, argv };
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
  if (!head.startsWith('#!')) return { exe: file, argv };
  const words = (head.slice(2).split('\n')[0] ?? '').trim().split(/\s+/);
  let [interpreter, ...rest] = words;
  if (interpreter === undefined || interpreter === '') return { exe: file, argv };
  if (basenameOf(interpreter) === 'env') {
    rest = rest.filter((w) => w !== '-S');
    const name = rest.shift();
    const found = name === undefined ? undefined : locate(name, cwd, path);
    if (!found) return { exe: file, argv };
    interpreter = found;
  }
  return { exe: interpreter, argv: [interpreter, ...rest, file, ...argv.slice(1)] };
}

function refuse(why: string): EnvmountError {
  return new EnvmountError('FORBIDDEN', `envmount run refused: ${why}.`);
}

export interface RunReader {
  /** The process judged: the command (with the peer's pid, start time and cwd), or the peer itself. */
  readonly reader: ProcessInfo;
  /** Its parents: envmount's own process first when the reader is the command. */
  readonly processes: ProcessDescriber;
}

/**
 * The reader `envmount run` is judged as. `cliScripts`: the real paths of envmount's CLI entry points (the daemon's
 * own install).
 */
export function runReader(
  peer: ProcessInfo,
  command: Params<'run'>['command'],
  cliScripts: readonly string[],
): RunReader {
  const script = scriptOf(peer);
  const isCli =
    basenameOf(peer.exe).startsWith('node') && script?.kind === 'file' && cliScripts.includes(real(script.path));
  if (!isCli) return { reader: peer, processes: PROC_DESCRIBER };
  const scriptAt = peer.argv.findIndex(
    (arg, i) => i > 0 && !arg.startsWith('-') && resolve(peer.cwd, arg) === script.path,
  );
  const env = environ(peer.pid);
  if (!env) throw refuse(`the environment of envmount's process (pid ${peer.pid}) cannot be read`);
  const preloads = preloadsOf(peer.argv.slice(1, Math.max(scriptAt, 1)), env.get('NODE_OPTIONS'));
  if (preloads.length > 0) {
    throw refuse(
      `envmount's node was started with code loaded before it (${preloads.join(' ')}); run envmount without it`,
    );
  }
  if (!command)
    throw refuse('this envmount is older than the daemon (it did not say which command it runs); update it');
  const own = runCommandOf(peer.argv.slice(scriptAt + 1));
  const same = own !== undefined && own.length === command.argv.length && own.every((a, i) => a === command.argv[i]);
  if (!same) throw refuse(`the command sent does not match the command line of envmount's process (pid ${peer.pid})`);
  const found = locate(command.argv[0] ?? '', peer.cwd, env.get('PATH'));
  if (!found || real(found) !== real(command.file)) {
    throw refuse(`"${command.argv[0]}" does not resolve to ${command.file} on the PATH of envmount's process`);
  }
  const run = throughShebang(command.file, command.argv, peer.cwd, env.get('PATH'));
  const reader: ProcessInfo = { ...peer, exe: real(run.exe), argv: run.argv };
  return {
    reader,
    processes: {
      ...PROC_DESCRIBER,
      ancestors: (info) =>
        info === reader ? [peer, ...PROC_DESCRIBER.ancestors(peer)] : PROC_DESCRIBER.ancestors(info),
    },
  };
}
