/**
 * The child in a pseudo-terminal (node-pty), for when our stdout is a terminal: the child sees a terminal, so its
 * colours, line editing and full-screen output work; our terminal goes raw so that every key, Ctrl-C included,
 * reaches the child's terminal, whose line discipline turns it into a signal. Output is masked on its way out.
 */
import { spawn } from 'node-pty';
import type { ChildSpec } from '../core/child-spec.js';
import { MaskedOutput } from './masked-output.js';
import { forwardSignals, type RunIo } from './run-io.js';

/** A terminal turns "\n" into "\r\n" on output: a value with newlines appears in that form, and is masked so too. */
function withTerminalNewlines(secrets: readonly Buffer[]): Buffer[] {
  const bare = (s: Buffer, i: number) => s[i] === 0x0a && s[i - 1] !== 0x0d;
  const extra = secrets
    .filter((s) => s.includes(0x0a))
    .map((s) => {
      let count = 0;
      for (let i = 0; i < s.length; i++) if (bare(s, i)) count++;
      const out = Buffer.alloc(s.length + count);
      let at = 0;
      for (let i = 0; i < s.length; i++) {
        if (bare(s, i)) out[at++] = 0x0d;
        out[at++] = s[i] ?? 0;
      }
      return out;
    });
  return [...secrets, ...extra];
}

export function runInPty(spec: ChildSpec, io: RunIo): Promise<number> {
  const secrets = withTerminalNewlines(spec.secrets);
  const output = new MaskedOutput(io.stdout, secrets);
  for (const s of secrets.slice(spec.secrets.length)) s.fill(0);
  const child = spawn(spec.file, [...spec.args], {
    name: spec.env.TERM ?? 'xterm-256color',
    cols: io.stdout.columns || 80,
    rows: io.stdout.rows || 24,
    cwd: spec.cwd,
    env: { ...spec.env },
    encoding: null,
  });
  const rawInput = io.stdin.isTTY === true;
  if (rawInput) io.stdin.setRawMode(true);
  const onInput = (data: Buffer) => child.write(data);
  // Input that is not a terminal ends: the child's terminal gets EOF (Ctrl-D) as if typed.
  const onInputEnd = () => child.write('\x04');
  io.stdin.on('data', onInput);
  io.stdin.on('end', onInputEnd);
  io.stdin.resume();
  const onResize = () => {
    try {
      child.resize(io.stdout.columns || 80, io.stdout.rows || 24);
    } catch {
      // The child's terminal is already closed (it exited between the signal and now): nothing to resize.
    }
  };
  io.stdout.on('resize', onResize);
  // Signals sent to envmount (not typed: raw mode turns Ctrl-C into input) go to the child.
  const stopForwarding = forwardSignals(io, (signal) => child.kill(signal));
  // With encoding null node-pty emits Buffers; its typings say string.
  const data = child.onData((chunk) => {
    if (!output.write(chunk as unknown as Buffer)) {
      child.pause();
      output.onDrain(() => child.resume());
    }
  });
  return new Promise<number>((resolve) => {
    child.onExit(({ exitCode, signal }) => {
      try {
        data.dispose();
        output.end();
      } finally {
        stopForwarding();
        io.stdout.off('resize', onResize);
        io.stdin.off('data', onInput);
        io.stdin.off('end', onInputEnd);
        if (rawInput) io.stdin.setRawMode(false);
        io.stdin.pause();
      }
      resolve(signal ? 128 + signal : exitCode);
    });
  });
}
