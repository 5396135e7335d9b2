/** Picks the service manager of this platform and gives it real commands and files (wired from src/bin). */
import { execFile, spawn } from 'node:child_process';
import { access, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ServiceControl, ServiceManagerKind, UnitPaths } from '../core/service-units.js';
import { launchdService } from './launchd.js';
import type { ExecResult, ServiceDeps } from './service-files.js';
import { systemdService } from './systemd.js';

/** Runs a command to completion without a shell; a command that is not installed gives code 127. */
export function execCommand(command: string, args: readonly string[], cwd?: string): Promise<ExecResult> {
  return new Promise((resolve) => {
    execFile(command, [...args], { cwd, encoding: 'utf8', maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      const code = error === null ? 0 : error.code === 'ENOENT' ? 127 : typeof error.code === 'number' ? error.code : 1;
      resolve({ code, stdout, stderr });
    });
  });
}

export function serviceControl(options: {
  kind: ServiceManagerKind;
  /** The package root: holds systemd/, launchd/ and dist/. */
  install: string;
  node: string;
  home: string;
  configHome: string;
  environment: Readonly<Record<string, string>>;
  uid: number;
}): ServiceControl {
  const paths: UnitPaths = {
    node: options.node,
    install: options.install,
    home: options.home,
    environment: options.environment,
  };
  const deps: ServiceDeps = {
    exec: (command, args) => execCommand(command, args),
    stream: (command, args) =>
      new Promise((resolve) => {
        const child = spawn(command, [...args], { stdio: 'inherit' });
        child.on('error', () => resolve(127));
        child.on('close', (code, signal) => resolve(code ?? (signal === 'SIGINT' ? 130 : 1)));
      }),
    template: (relative) => readFile(join(options.install, relative), 'utf8'),
    exists: (path) =>
      access(path).then(
        () => true,
        () => false,
      ),
    paths,
    configHome: options.configHome,
    uid: options.uid,
  };
  return options.kind === 'launchd' ? launchdService(deps) : systemdService(deps);
}
