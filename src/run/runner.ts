/** The child runner src/bin wires into the CLI: a pseudo-terminal when our stdout is a terminal, pipes otherwise. */
import type { ChildRunner } from '../core/child-spec.js';
import { locateCommand } from './locate.js';
import { runOnPipes } from './pipe-child.js';
import type { RunIo } from './run-io.js';

export function createChildRunner(io: RunIo): ChildRunner {
  const terminal = io.stdout.isTTY === true;
  return {
    terminal,
    locate: locateCommand,
    run: async (spec) => {
      if (!terminal) return runOnPipes(spec, io);
      // node-pty is a native module: loaded only when a child needs a terminal, not by every CLI command.
      const { runInPty } = await import('./pty-child.js');
      return runInPty(spec, io);
    },
  };
}
