/**
 * The child on plain pipes, for when our stdout is not a terminal (a pipe, a file, an MCP client): without
 * masking the child inherits our descriptors, so binary and protocol streams pass byte for byte and nothing of
 * ours sits in between. With masking (`--mask`) its stdout and stderr each go through their own matcher.
 */
import { spawn } from 'node:child_process';
import { constants } from 'node:os';
import type { Readable } from 'node:stream';
import type { ChildSpec } from '../core/child-spec.js';
import { EnvmountError } from '../core/errors.js';
import { MaskedOutput } from './masked-output.js';
import { forwardSignals, type RunIo } from './run-io.js';

function pump(from: Readable, to: MaskedOutput): Promise<void> {
  return new Promise((resolve) => {
    from.on('data', (chunk: Buffer) => {
      if (to.broken) {
        // Nobody reads our side any more: close the child's pipe so it gets EPIPE, as it would without us.
        from.destroy();
        return;
      }
      if (!to.write(chunk)) {
        from.pause();
        to.onDrain(() => from.resume());
      }
    });
    from.on('close', () => {
      to.end();
      resolve();
    });
  });
}

export function runOnPipes(spec: ChildSpec, io: RunIo): Promise<number> {
  const masking = spec.secrets.length > 0;
  const child = spawn(spec.file, [...spec.args], {
    argv0: spec.argv0,
    cwd: spec.cwd,
    env: { ...spec.env },
    stdio: ['inherit', masking ? 'pipe' : 'inherit', masking ? 'pipe' : 'inherit'],
  });
  const pumps =
    masking && child.stdout && child.stderr
      ? [
          pump(child.stdout, new MaskedOutput(io.stdout, spec.secrets)),
          pump(child.stderr, new MaskedOutput(io.stderr, spec.secrets)),
        ]
      : [];
  // The child shares our terminal's process group when stdin is one: an interrupt or hangup typed there reaches it
  // already, and a second copy from us would read as "force quit" to programs that shut down gracefully.
  const sharesTerminal = io.stdin.isTTY === true;
  const stopForwarding = forwardSignals(io, (signal) => {
    if (signal === 'SIGTERM' || !sharesTerminal) child.kill(signal);
  });
  return new Promise<number>((resolve, reject) => {
    child.once('error', (error) => {
      stopForwarding();
      reject(
        new EnvmountError('COMMAND_NOT_FOUND', `Cannot run "${spec.argv0}": ${(error as Error).message}.`, {
          cause: error,
        }),
      );
    });
    child.once('exit', (code, signal) => {
      stopForwarding();
      void Promise.all(pumps).then(() => resolve(signal ? 128 + (constants.signals[signal] ?? 0) : (code ?? 1)));
    });
  });
}
