/**
 * The desktop dialog for approvals, where a display is present: zenity or kdialog on Linux, osascript on macOS.
 * Run with execFile (no shell); the text shows who asks, never a value. Closed when the request ends elsewhere.
 */
import { execFile } from 'node:child_process';
import type { PendingApproval, Prompter } from './approvals.js';

export interface DesktopOptions {
  readonly platform: NodeJS.Platform;
  /** A graphical session is there (DISPLAY / WAYLAND_DISPLAY on Linux; always on macOS). */
  readonly display: boolean;
}

function question(request: PendingApproval): string {
  const command = request.argv.join(' ').slice(0, 300);
  return `Allow ${request.exe} (pid ${request.pid}) to read ${request.mount}?\n\n${command}\n\nin ${request.cwd}`;
}

function dialog(platform: NodeJS.Platform, text: string): [string, string[]][] {
  if (platform === 'darwin') {
    const script = `display dialog ${JSON.stringify(text)} buttons {"Deny", "Allow"} default button "Deny" with title "envmount"`;
    return [['osascript', ['-e', script]]];
  }
  return [
    ['zenity', ['--question', '--title=envmount', `--text=${text}`, '--ok-label=Allow', '--cancel-label=Deny']],
    ['kdialog', ['--title', 'envmount', '--yesno', text]],
  ];
}

export function desktopPrompter(options: DesktopOptions): Prompter | undefined {
  if (!options.display) return undefined;
  return (request, signal) =>
    new Promise((resolve) => {
      const candidates = dialog(options.platform, question(request));
      const tryNext = () => {
        const next = candidates.shift();
        if (!next || signal.aborted) return resolve(undefined);
        execFile(next[0], next[1], { signal }, (error, stdout) => {
          const code = (error as { code?: unknown } | null)?.code;
          if (code === 'ENOENT') return tryNext();
          if (signal.aborted) return resolve(undefined);
          if (options.platform === 'darwin') return resolve(stdout.includes('Allow') ? 'allow' : 'deny');
          resolve(error ? 'deny' : 'allow');
        });
      };
      tryNext();
    });
}
