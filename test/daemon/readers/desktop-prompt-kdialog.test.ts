/**
 * kdialog, the KDE dialog, run with the arguments the daemon gives it, under Xvfb: Deny is the default (Enter),
 * Escape denies, and only the Allow button allows; a screenshot (test-artifacts/desktop-prompt-kdialog.png) shows a
 * person that the reader's tags, entities and `\n` stay text. kdialog is heavy (Qt and KDE Frameworks): .ci/run
 * does not install it, so this runs where it is installed and is skipped elsewhere.
 */
import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dialogCommands } from '../../../src/daemon/readers/desktop-prompt.js';
import { killAll, track } from '../../helpers/daemon.js';
import { missingCommands, Xvfb } from '../../helpers/xvfb.js';

const missing = missingCommands(['Xvfb', 'kdialog', 'xdotool', 'xwd']);
const title = missing.length
  ? `a real kdialog under Xvfb (skipped: ${missing.join(', ')} not installed)`
  : 'a real kdialog under Xvfb';

const LINES = [
  'A program asks to read /home/me/app/.env',
  '',
  'Command line (what the program says about itself; it can say anything):',
  `cat .env $'<span size="xx-large" foreground="green"><b>trusted</b></span>\\nAllow\\x1b[2J' 'a  b' '&amp;'`,
];

let x: Xvfb | undefined;

function server(): Xvfb {
  if (!x) throw new Error('Xvfb is started in beforeAll');
  return x;
}

/** Shows the dialog, presses `keys` in it, and resolves with the answer its exit code means. */
async function answerWith(keys: string[], screenshot?: string) {
  const kdialog = dialogCommands('linux', LINES)[1];
  if (kdialog?.file !== 'kdialog') throw new Error('no kdialog command');
  const child = track(spawn(kdialog.file, [...kdialog.args], { env: server().env, stdio: 'ignore' }));
  const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const window = await server().windowOf(child.pid ?? 0);
  if (screenshot) expect(await server().screenshot(window, screenshot)).toBeGreaterThan(16);
  await server().xdotool('windowfocus', '--sync', window, 'key', ...keys);
  const code = await exited;
  clearTimeout(timer);
  return kdialog.answer(code, '', '');
}

describe.skipIf(missing.length > 0)(title, () => {
  beforeAll(async () => {
    x = await Xvfb.start();
  });

  afterAll(async () => {
    try {
      await killAll();
    } finally {
      await x?.stop();
    }
  });

  it('Enter presses Deny (the default), Escape denies, Allow (Tab, Enter) allows', async () => {
    expect(await answerWith(['Return'], 'desktop-prompt-kdialog.png')).toBe('deny');
    expect(await answerWith(['Escape'])).toBe('deny');
    expect(await answerWith(['Tab', 'Return'])).toBe('allow');
  });
});
