/**
 * The approval dialog as a person on a Linux desktop sees it: a real X server (Xvfb), the real daemon with DISPLAY
 * set, a read waiting for approval from a reader with a hostile command line, and the zenity dialog the daemon opens.
 * Checked: the dialog's own arguments (plain text, Deny by default, the facts in fixed lines, the hostile text only
 * escaped and only on the command line's line), a screenshot for a person (test-artifacts/, ignored by git), and the
 * answer given through the dialog with xdotool: Enter denies, Allow releases the values.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { accessSync, constants, mkdirSync, readdirSync, readFileSync, realpathSync, writeFileSync } from 'node:fs';
import { basename, delimiter, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dialogCommands, kdialogText, TITLE } from '../../src/daemon/desktop-prompt.js';
import { killAll, ROOT, run, TestDaemon, track, waitFor } from '../helpers/daemon.js';
import { colourCount, parseXwd, toPng } from '../helpers/xwd-png.js';

const VALUES = "TOKEN='tok-value'\n";
const HOSTILE = '<span size="xx-large" foreground="green"><b>trusted, approved before</b></span>\nAllow\x1b[2J';
/** The hostile argument as the dialog must show it: one line, quoted, control characters escaped. */
const HOSTILE_SHOWN = `$'<span size="xx-large" foreground="green"><b>trusted, approved before</b></span>\\nAllow\\x1b[2J'`;
const ARTIFACTS = join(ROOT, 'test-artifacts');
/** The shell the reader runs under, by its real executable's name (dash on Debian). */
const SH = basename(realpathSync('/bin/sh'));

function onPath(command: string): boolean {
  return (process.env.PATH ?? '').split(delimiter).some((dir) => {
    try {
      accessSync(join(dir, command), constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

const missing = ['Xvfb', 'zenity', 'xdotool', 'xwd'].filter((command) => !onPath(command));
const title = missing.length
  ? `a real zenity dialog under Xvfb (skipped: ${missing.join(', ')} not installed; .ci/run installs them)`
  : 'a real zenity dialog under Xvfb';

let xvfb: ChildProcess | undefined;
let display = '';
let daemon: TestDaemon | undefined;
const dialogs = new Set<number>();

/** Starts Xvfb on a free display; `-displayfd` says which one once the server accepts connections. */
function startXvfb(): Promise<string> {
  const child = spawn('Xvfb', ['-displayfd', '3', '-screen', '0', '1024x768x24', '-nolisten', 'tcp'], {
    stdio: ['ignore', 'ignore', 'pipe', 'pipe'],
  });
  xvfb = child;
  let log = '';
  child.stderr?.setEncoding('utf8').on('data', (d: string) => {
    log += d;
  });
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdio[3]?.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('\n')) resolve(`:${out.trim()}`);
    });
    child.once('exit', (code) => reject(new Error(`Xvfb exited with ${code} before it was ready:\n${log}`)));
  });
}

/** The zenity process the daemon started for this read (not one an earlier test left open), once it is there. */
function dialogOf(parent: number): Promise<number> {
  return waitFor(() => {
    for (const name of readdirSync('/proc')) {
      if (!/^\d+$/.test(name)) continue;
      try {
        const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
        const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
        if (Number(fields[1]) === parent && stat.includes('(zenity)') && !dialogs.has(Number(name))) {
          dialogs.add(Number(name));
          return Number(name);
        }
      } catch {}
    }
    return undefined;
  });
}

function argsOf(pid: number): string[] {
  return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').slice(0, -1);
}

async function xdotool(...args: string[]): Promise<string> {
  const result = await run('xdotool', args, { env: { ...process.env, DISPLAY: display }, timeoutMs: 15_000 });
  expect(result.code, result.stderr).toBe(0);
  return result.stdout.trim();
}

/** The dialog's window, once mapped: searched by the pid GTK sets on it. */
async function windowOf(pid: number): Promise<string> {
  const found = await xdotool('search', '--sync', '--onlyvisible', '--pid', String(pid));
  return found.split('\n')[0] ?? '';
}

/** A PNG of the window under test-artifacts/, taken once the dialog is painted (more than a few colours). */
async function screenshot(window: string, name: string): Promise<number> {
  const image = await waitFor(async () => {
    const dump = await run('sh', ['-c', `xwd -silent -id ${window} | base64 -w0`], {
      env: { ...process.env, DISPLAY: display },
    });
    if (dump.code !== 0) return undefined;
    const parsed = parseXwd(Buffer.from(dump.stdout, 'base64'));
    return colourCount(parsed) > 16 ? parsed : undefined;
  });
  mkdirSync(ARTIFACTS, { recursive: true });
  writeFileSync(join(ARTIFACTS, name), toPng(image));
  return colourCount(image);
}

async function pendingPid(dir: string): Promise<number> {
  if (!daemon) throw new Error('no daemon');
  const own = daemon;
  return waitFor(async () => {
    const pending = JSON.parse((await own.cli(['--json', 'approvals'])).stdout) as { mount: string; pid: number }[];
    return pending.find((p) => p.mount === join(dir, '.env'))?.pid;
  });
}

/**
 * A reader with a hostile argument, under a parent whose argv[0] says `claude` (an agent in the chain); resolves
 * with what the dialog showed (its arguments) and the window, and leaves answering to the test.
 */
async function waitingRead(name: string) {
  if (!daemon) throw new Error('no daemon');
  const dir = daemon.project(name, 'TOKEN=envmount://TOKEN\n');
  expect((await daemon.cli(['add', dir])).code).toBe(0);
  const child = track(
    spawn('sh', ['-c', 'cat .env "$1"; true', 'sh', HOSTILE], { cwd: dir, argv0: 'claude', stdio: 'pipe' }),
  );
  let out = '';
  child.stdout?.setEncoding('utf8').on('data', (d: string) => {
    out += d;
  });
  // A read nobody answers must not outlive the test: killed after 30 s.
  const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
  const reader = {
    done: new Promise<string>((resolve) =>
      child.on('close', () => {
        clearTimeout(timer);
        resolve(out);
      }),
    ),
  };
  const agent = child.pid ?? 0;
  const pid = await pendingPid(dir);
  const zenity = await dialogOf(daemon.process?.pid ?? 0);
  return { dir, reader, agent, pid, zenity, args: argsOf(zenity), window: await windowOf(zenity) };
}

describe.skipIf(missing.length > 0)(title, () => {
  beforeAll(async () => {
    display = await startXvfb();
    daemon = new TestDaemon();
    await daemon.start({ DISPLAY: display, NO_AT_BRIDGE: '1', ENVMOUNT_APPROVAL_TIMEOUT_MS: '60000' });
    expect((await daemon.cli(['set', 'TOKEN'], { input: 'tok-value' })).code).toBe(0);
  });

  afterAll(async () => {
    try {
      await killAll();
      await daemon?.dispose();
    } finally {
      for (const pid of dialogs) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {}
      }
      const server = xvfb;
      if (server && server.exitCode === null && server.signalCode === null) {
        const exited = new Promise((resolve) => server.once('exit', resolve));
        server.kill('SIGTERM');
        await exited;
      }
    }
  });

  it('shows the facts as plain text with Deny as default; the hostile text only escaped, on its own line', async () => {
    const read = await waitingRead('facts');
    expect(read.args).toEqual(expect.arrayContaining(['--question', '--no-markup', '--default-cancel']));
    const text = read.args.find((arg) => arg.startsWith('--text='))?.slice('--text='.length) ?? '';
    const lines = text.split('\n');
    expect(lines).toEqual([
      `A program asks to read ${join(read.dir, '.env')}`,
      'Allow it only if you know it and expect it to read this file. Deny is the default.',
      '',
      `Program: /usr/bin/cat (pid ${read.pid})`,
      'Script: none (not an interpreter)',
      `Directory: ${read.dir}`,
      `Agent: claude (pid ${read.agent})`,
      expect.stringMatching(/^Parents: /),
      '',
      'Command line (what the program says about itself; it can say anything):',
      `cat .env ${HOSTILE_SHOWN}`,
    ]);
    // The parents from the kernel, nearest first: the shell whose argv[0] says claude, then this test's process.
    expect(lines[7]).toMatch(
      new RegExp(`^Parents: ${SH} \\(pid ${read.agent}\\) < node [^<]*\\(pid ${process.pid}\\)`),
    );
    expect(text).not.toContain('\x1b');
    const colours = await screenshot(read.window, 'desktop-prompt.png');
    expect(colours).toBeGreaterThan(16);
    // Enter presses the focused button, which --default-cancel makes Deny.
    await xdotool('windowfocus', '--sync', read.window, 'key', 'Return');
    const out = await read.reader.done;
    expect(out).not.toContain('tok-value');
    expect(out).toContain('# why: the request was denied');
  });

  it('Allow, chosen in the dialog (Tab to it, then Enter), releases the waiting read with the values', async () => {
    const read = await waitingRead('allow');
    await xdotool('windowfocus', '--sync', read.window, 'key', 'Tab', 'Return');
    expect(await read.reader.done).toBe(VALUES);
  });
});

describe('the dialog of each platform', () => {
  const lines = ['A program asks', '', 'Command line (...):', `cat .env '<b>x</b> & \\n'`];

  it('zenity: plain text, Deny the default; only Allow (exit 0) allows, only Deny or closing (1) denies', () => {
    const [zenity, kdialog] = dialogCommands('linux', lines);
    expect(zenity?.file).toBe('zenity');
    expect(zenity?.args).toEqual(
      expect.arrayContaining(['--no-markup', '--default-cancel', `--text=${lines.join('\n')}`]),
    );
    expect([0, 1, 5, 255, null].map((code) => zenity?.answer(code, '', ''))).toEqual([
      'allow',
      'deny',
      undefined,
      undefined,
      undefined,
    ]);
    expect(kdialog?.file).toBe('kdialog');
  });

  it('kdialog: rich text on our terms (every tag and backslash an entity); Yes is Deny, the default', () => {
    const kdialog = dialogCommands('linux', lines)[1];
    expect(kdialogText(lines)).toBe(
      '<qt><p style="white-space:pre-wrap">A program asks<br><br>Command line (...):<br>' +
        'cat .env &#39;&#60;b&#62;x&#60;/b&#62; &#38; &#92;n&#39;</p></qt>',
    );
    expect(kdialog?.args.slice(0, 6)).toEqual(['--title', TITLE, '--yes-label', 'Deny', '--no-label', 'Allow']);
    expect([0, 1, 2, 134].map((code) => kdialog?.answer(code, '', ''))).toEqual(['deny', 'allow', 'deny', undefined]);
  });

  it('osascript: the text is an argument of the run handler, never inside the script; Deny is default and cancel', () => {
    const [osascript] = dialogCommands('darwin', [...lines, '" buttons {"Allow"} default button "Allow']);
    const script = osascript?.args.filter((_, i, all) => all[i - 1] === '-e').join('\n') ?? '';
    expect(script).not.toContain('Command line');
    expect(script).toContain('default button "Deny" cancel button "Deny"');
    expect(osascript?.args.at(-1)).toContain('Command line');
    expect(osascript?.answer(0, 'button returned:Allow\n', '')).toBe('allow');
    expect(osascript?.answer(1, '', 'execution error: User canceled. (-128)')).toBe('deny');
    expect(osascript?.answer(1, '', 'execution error: something else (-1700)')).toBeUndefined();
  });
});
