/**
 * The desktop dialog for approvals, where a display is present: zenity or kdialog on Linux, osascript on macOS.
 * Run with execFile (no shell); the text shows who asks (reader-description.ts), never a value, and is
 * plain text in every dialog: nothing a reader puts in its command line or paths becomes markup. Deny is the
 * default button everywhere, and only Allow allows: Enter, Escape and closing the window deny (with neither zenity
 * nor kdialog, a notify-send notification says what waits and the command to run); a dialog that fails,
 * times out or is killed gives no answer (the request stays for `envmount approve` until its timeout, which
 * refuses). Closed when the request ends elsewhere.
 */
import { execFile } from 'node:child_process';
import { visible } from '../../core/visible-text.js';
import type { Prompter } from './approvals.js';
import { describeReader } from './reader-description.js';

export interface DesktopOptions {
  readonly platform: NodeJS.Platform;
  /** A graphical session is there (DISPLAY / WAYLAND_DISPLAY on Linux; always on macOS). */
  readonly display: boolean;
}

export const TITLE = 'envmount: allow this read?';

type Answer = 'allow' | 'deny' | undefined;

export interface DialogCommand {
  readonly file: string;
  readonly args: readonly string[];
  /** The answer an ending means (exit code, or null when killed by a signal); undefined: none was given. */
  readonly answer: (code: number | null, stdout: string, stderr: string) => Answer;
}

/**
 * kdialog's label takes rich text when its first line looks like a tag (Qt::mightBeRichText), and kdialog turns
 * `\n` into a line break before that. So the text is made rich text on our terms, which the reader cannot leave:
 * every character that means something to HTML or to kdialog (the backslash) as a numeric entity, wrapped in <qt>,
 * lines joined by <br>, runs of spaces kept (pre-wrap).
 */
export function kdialogText(lines: readonly string[]): string {
  const entities = (line: string) => line.replace(/[&<>"'\\]/g, (ch) => `&#${ch.charCodeAt(0)};`);
  return `<qt><p style="white-space:pre-wrap">${lines.map(entities).join('<br>')}</p></qt>`;
}

/** The text goes to AppleScript as an argument of its run handler: never inside a string literal. */
const APPLESCRIPT = [
  'on run argv',
  `display dialog (item 1 of argv) with title "${TITLE}" buttons {"Deny", "Allow"} default button "Deny" cancel button "Deny" with icon caution`,
  'end run',
];

/** The dialogs to try, in order, for a platform; the first one installed is shown. */
export function dialogCommands(platform: NodeJS.Platform, lines: readonly string[]): DialogCommand[] {
  const text = lines.join('\n');
  if (platform === 'darwin') {
    return [
      {
        file: 'osascript',
        args: [...APPLESCRIPT.flatMap((line) => ['-e', line]), text],
        // Deny is the cancel button: osascript fails with "User canceled. (-128)".
        answer: (code, stdout, stderr) =>
          code === 0 && stdout.trim() === 'button returned:Allow'
            ? 'allow'
            : /\(-128\)/.test(stderr)
              ? 'deny'
              : undefined,
      },
    ];
  }
  return [
    {
      // 0: Allow; 1: Deny, Escape or the window closed; 5 (timeout) and -1 (error) are no answer.
      file: 'zenity',
      args: [
        '--question',
        `--title=${TITLE}`,
        '--no-markup',
        '--default-cancel',
        '--ok-label=Allow',
        '--cancel-label=Deny',
        '--width=640',
        `--text=${text}`,
      ],
      answer: (code) => (code === 0 ? 'allow' : code === 1 ? 'deny' : undefined),
    },
    {
      // kdialog cannot make No the default of a yes/no box, and its first button (Yes) is: so Yes is Deny (exit 0)
      // and No is Allow (exit 1); Escape or closing the window exits 2.
      file: 'kdialog',
      args: ['--title', TITLE, '--yes-label', 'Deny', '--no-label', 'Allow', '--warningyesno', kdialogText(lines)],
      answer: (code) => (code === 1 ? 'allow' : code === 0 || code === 2 ? 'deny' : undefined),
    },
  ];
}

/**
 * Where no dialog is installed, a desktop notification (notify-send): it cannot answer, so it says what waits and
 * the command that answers. Its body is markup to some notification servers: &, < and > go as entities.
 */
export function notifyCommand(request: Parameters<Prompter>[0]): DialogCommand {
  const by = request.agent !== undefined ? ` started by ${request.agent}` : '';
  const body = `${request.exe} (pid ${request.pid})${by} waits to read ${request.mount}.\nRun \`envmount approve ${request.id}\` to let it, or \`envmount deny ${request.id}\`.`;
  const text = visibleLines(body).replace(/[&<>]/g, (ch) => `&#${ch.charCodeAt(0)};`);
  return {
    file: 'notify-send',
    args: ['--app-name=envmount', '--urgency=critical', 'envmount: a read waits for your approval', text],
    answer: () => undefined,
  };
}

/** Each line made visible (control characters escaped), the line breaks kept. */
function visibleLines(text: string): string {
  return text
    .split('\n')
    .map((line) => visible(line))
    .join('\n');
}

export function desktopPrompter(options: DesktopOptions): Prompter | undefined {
  if (!options.display) return undefined;
  return (request, signal, asker) =>
    new Promise((resolve) => {
      const lines = describeReader(request.mount, asker.reader, asker.ancestors);
      const candidates = dialogCommands(options.platform, lines);
      if (options.platform !== 'darwin') candidates.push(notifyCommand(request));
      const tryNext = () => {
        const next = candidates.shift();
        if (!next || signal.aborted) return resolve(undefined);
        execFile(next.file, [...next.args], { signal }, (error, stdout, stderr) => {
          const code = (error as { code?: unknown } | null)?.code;
          if (code === 'ENOENT') return tryNext();
          if (signal.aborted) return resolve(undefined);
          resolve(next.answer(error ? (typeof code === 'number' ? code : null) : 0, stdout, stderr));
        });
      };
      tryNext();
    });
}
