/**
 * The approval dialog as a person on a Linux desktop sees it: a real X server (Xvfb), the real daemon with DISPLAY
 * set, a read waiting for approval from a reader with a hostile command line, and the zenity dialog the daemon opens.
 * Checked: the dialog's own arguments (plain text, Deny by default, the facts in fixed lines, the hostile text only
 * escaped and only on the command line's line), a screenshot for a person (test-artifacts/, ignored by git), and the
 * answer given through the dialog with xdotool: Enter denies, Allow releases the values.
 */
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync, realpathSync } from 'node:fs';
import { basename, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dialogCommands, kdialogText, TITLE } from '../../../src/daemon/readers/desktop-prompt.js';
import { killAll, TestDaemon, track, waitFor } from '../../helpers/daemon.js';
import { missingCommands, Xvfb } from '../../helpers/xvfb.js';

const VALUES = "TOKEN='tok-value'\n";
const HOSTILE = '<span size="xx-large" foreground="green"><b>trusted, approved before</b></span>\nAllow\x1b[2J';
/** The hostile argument as the dialog must show it: one line, quoted, control characters escaped. */
const HOSTILE_SHOWN = `$'<span size="xx-large" foreground="green"><b>trusted, approved before</b></span>\\nAllow\\x1b[2J'`;
/** The shell the reader runs under, by its real executable's name (dash on Debian). */
const SH = basename(realpathSync('/bin/sh'));

const missing = missingCommands(['Xvfb', 'zenity', 'xdotool', 'xwd']);
const title = missing.length
  ? `a real zenity dialog under Xvfb (skipped: ${missing.join(', ')} not installed; .ci/run installs them)`
  : 'a real zenity dialog under Xvfb';

let x: Xvfb | undefined;

function server(): Xvfb {
  if (!x) throw new Error('Xvfb is started in beforeAll');
  return x;
}
let daemon: TestDaemon | undefined;
const dialogs = new Set<number>();

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
  const window = await server().windowOf(zenity);
  return { dir, reader, agent, pid, zenity, args: argsOf(zenity), window };
}

describe.skipIf(missing.length > 0)(title, () => {
  beforeAll(async () => {
    x = await Xvfb.start();
    daemon = new TestDaemon();
    await daemon.start({ DISPLAY: x.display, NO_AT_BRIDGE: '1', ENVMOUNT_APPROVAL_TIMEOUT_MS: '60000' });
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
      await x?.stop();
    }
  });

  it('shows the facts as plain text with Deny as default; the hostile text only escaped, on its own line', async () => {
    const read = await waitingRead('facts');
    expect(read.args).toEqual(expect.arrayContaining(['--question', '--no-markup', '--default-cancel']));
    const text = read.args.find((arg) => arg.startsWith('--text='))?.slice('--text='.length) ?? '';
    const lines = text.split('\n');
    expect(lines).toEqual([
      `A program started by claude asks to read ${join(read.dir, '.env')}`,
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
    const colours = await server().screenshot(read.window, 'desktop-prompt.png');
    expect(colours).toBeGreaterThan(16);
    // Enter presses the focused button, which --default-cancel makes Deny.
    await server().xdotool('windowfocus', '--sync', read.window, 'key', 'Return');
    const out = await read.reader.done;
    expect(out).not.toContain('tok-value');
    expect(out).toContain('# why: the request was denied');
  });

  it('Allow, chosen in the dialog (Tab to it, then Enter), releases the waiting read with the values', async () => {
    const read = await waitingRead('allow');
    await server().xdotool('windowfocus', '--sync', read.window, 'key', 'Tab', 'Return');
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
