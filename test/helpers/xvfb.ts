/**
 * A real X server for tests of desktop dialogs: Xvfb on a free display, xdotool to find windows and press keys,
 * and screenshots (xwd, turned into PNG) under test-artifacts/ (ignored by git) for a person to look at.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { accessSync, constants, mkdirSync, writeFileSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { expect } from 'vitest';
import { ROOT, run, waitFor } from './daemon.js';
import { colourCount, parseXwd, toPng } from './xwd-png.js';

export const ARTIFACTS = join(ROOT, 'test-artifacts');

/** Which of these commands are not on PATH (the reason a test of real windows is skipped). */
export function missingCommands(commands: readonly string[]): string[] {
  const found = (command: string) =>
    (process.env.PATH ?? '').split(delimiter).some((dir) => {
      try {
        accessSync(join(dir, command), constants.X_OK);
        return true;
      } catch {
        return false;
      }
    });
  return commands.filter((command) => !found(command));
}

export class Xvfb {
  readonly display: string;
  readonly #child: ChildProcess;

  private constructor(display: string, child: ChildProcess) {
    this.display = display;
    this.#child = child;
  }

  /**
   * Starts Xvfb on a free display; `-displayfd` says which one once the server accepts connections. `-noreset`:
   * by default an X server resets when its last client leaves, and a reset closes every connection still in its
   * setup. A test polling with xdotool makes that happen: one xdotool leaving just as a dialog connects cost the
   * dialog its display ("could not connect to display", kdialog then aborts), about 1 start in 40 under load.
   */
  static start(): Promise<Xvfb> {
    const args = ['-displayfd', '3', '-noreset', '-screen', '0', '1024x768x24', '-nolisten', 'tcp'];
    const child = spawn('Xvfb', args, { stdio: ['ignore', 'ignore', 'pipe', 'pipe'] });
    let log = '';
    child.stderr?.setEncoding('utf8').on('data', (d: string) => {
      log += d;
    });
    return new Promise((resolve, reject) => {
      let out = '';
      child.stdio[3]?.on('data', (d: Buffer) => {
        out += d.toString();
        if (out.includes('\n')) resolve(new Xvfb(`:${out.trim()}`, child));
      });
      child.once('exit', (code) => reject(new Error(`Xvfb exited with ${code} before it was ready:\n${log}`)));
    });
  }

  get env(): NodeJS.ProcessEnv {
    return { ...process.env, DISPLAY: this.display, NO_AT_BRIDGE: '1' };
  }

  async xdotool(...args: string[]): Promise<string> {
    const result = await run('xdotool', args, { env: this.env, timeoutMs: 15_000 });
    expect(result.code, result.stderr).toBe(0);
    return result.stdout.trim();
  }

  /** The first visible window of a process, once mapped (by the _NET_WM_PID toolkits set). */
  async windowOf(pid: number): Promise<string> {
    const found = await this.xdotool('search', '--sync', '--onlyvisible', '--pid', String(pid));
    return found.split('\n')[0] ?? '';
  }

  /** A PNG of a window under test-artifacts/, taken once it is painted (more than 16 colours); returns its colours. */
  async screenshot(window: string, name: string): Promise<number> {
    const image = await waitFor(async () => {
      const dump = await run('sh', ['-c', `xwd -silent -id ${window} | base64 -w0`], { env: this.env });
      if (dump.code !== 0) return undefined;
      const parsed = parseXwd(Buffer.from(dump.stdout, 'base64'));
      return colourCount(parsed) > 16 ? parsed : undefined;
    });
    mkdirSync(ARTIFACTS, { recursive: true });
    writeFileSync(join(ARTIFACTS, name), toPng(image));
    return colourCount(image);
  }

  /** Ends the server (every client left loses its display and exits); idempotent. */
  async stop(): Promise<void> {
    const child = this.#child;
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    await exited;
  }
}
