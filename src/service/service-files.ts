/**
 * What both service managers need: how to run their commands, where the templates and the user's directories are,
 * and files written only when their text changes.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { EnvmountError, errnoCode } from '../core/errors.js';
import type { UnitPaths } from '../core/service-units.js';

export interface ExecResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export interface ServiceDeps {
  /** Runs a command to completion (ENOENT: code 127). */
  readonly exec: (command: string, args: readonly string[]) => Promise<ExecResult>;
  /** Runs a command with our stdio (`logs --follow`); its exit code. */
  readonly stream: (command: string, args: readonly string[]) => Promise<number>;
  /** A template shipped with the package (`systemd/envmountd.service`, ...). */
  readonly template: (relative: string) => Promise<string>;
  readonly exists: (path: string) => Promise<boolean>;
  readonly paths: UnitPaths;
  /** XDG_CONFIG_HOME, or ~/.config. */
  readonly configHome: string;
  readonly uid: number;
}

/** Whether the file exists and holds something other than `text`. */
export async function differs(path: string, text: string): Promise<boolean> {
  try {
    return (await readFile(path, 'utf8')) !== text;
  } catch (error) {
    if (errnoCode(error) === 'ENOENT') return false;
    throw error;
  }
}

/** Writes `text` unless the file already holds exactly it; true if it wrote. */
export async function syncFile(path: string, text: string, mode: number): Promise<boolean> {
  try {
    if ((await readFile(path, 'utf8')) === text) return false;
  } catch (error) {
    if (errnoCode(error) !== 'ENOENT') throw error;
  }
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  await writeFile(path, text, { mode });
  return true;
}

/** What to do where no service manager can run envmountd. */
export const BY_HAND =
  'Run it yourself instead: `envmountd start` in a terminal, or `nohup envmountd start >>envmountd.log 2>&1 &`, or under your own supervisor.';

/** A service manager command that failed, named with what it said. */
export function serviceFailure(command: string, result: ExecResult): EnvmountError {
  if (result.code === 127) {
    const tool = command.split(' ')[0];
    return new EnvmountError(
      'SERVICE_UNAVAILABLE',
      `\`${tool}\` is not available here, so envmountd cannot run as a user service. ${BY_HAND}`,
    );
  }
  const said = (result.stderr || result.stdout).trim().split('\n')[0] ?? '';
  return new EnvmountError(
    'SERVICE_FAILED',
    `\`${command}\` failed (exit ${result.code})${said ? `: ${said}` : ''}. See \`envmount service status\` and \`envmount service logs\`.`,
  );
}
