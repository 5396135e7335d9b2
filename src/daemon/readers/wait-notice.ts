/**
 * Telling the person that a read waits for them, on the terminal where the reader was started: one line written to
 * the reader's controlling terminal (field tty_nr of /proc/PID/stat), saying who waits, for what, and the command
 * to run. Chosen over a `#` line in the content (bytes written to the pipe before the decision are part of what
 * the reader gets, and many formats and programs do not show them to anyone) and shown with the desktop dialog or
 * notification where a display is (desktop-prompt.ts). The terminal is opened write-only, without becoming ours
 * (O_NOCTTY) and without waiting (O_NONBLOCK: a terminal that does not take the line at once loses it), and only
 * when it is the reader's own terminal device, owned by the daemon's user. The line is plain text: nothing the
 * reader controls (its executable's path, its mount) can move the cursor or add a line.
 */
import { closeSync, constants, fstatSync, openSync, readlinkSync, writeSync } from 'node:fs';
import { visible } from '../../core/visible-text.js';
import type { WaitNotice } from './approvals.js';

/** Terminal devices a line may be written to; any other device is never opened (opening some has effects). */
const TERMINAL = /^\/dev\/(pts\/\d+|tty[A-Za-z]*\d*|console)$/;

/** Where a process's controlling terminal may be: terminals on its standard fds, then the pty the number names. */
export function terminalPaths(pid: number, ttyNr: number): string[] {
  const paths: string[] = [];
  for (const fd of [2, 1, 0]) {
    try {
      const target = readlinkSync(`/proc/${pid}/fd/${fd}`);
      if (TERMINAL.test(target) && !paths.includes(target)) paths.push(target);
    } catch {
      // Gone, or not ours to read: try the next.
    }
  }
  // tty_nr is the kernel's encoded dev_t: major in bits 8-19, minor in bits 0-7 and 20-31. ptys: majors 136-143.
  const major = (ttyNr >> 8) & 0xfff;
  const minor = (ttyNr & 0xff) | ((ttyNr >> 12) & 0xfff00);
  const pty = `/dev/pts/${(major - 136) * 256 + minor}`;
  if (major >= 136 && major <= 143 && !paths.includes(pty)) paths.push(pty);
  return paths;
}

/** The line a waiting read puts on its terminal. */
export function noticeLine(request: Parameters<WaitNotice>[0]): string {
  const by = request.agent !== undefined ? `, started by ${visible(request.agent)},` : '';
  const until = request.expiresAt.slice(11, 19);
  return `\r\n[envmount] ${visible(request.exe)} (pid ${request.pid})${by} waits for your approval to read ${visible(request.mount)}. Run \`envmount approve ${request.id}\` to let it (or \`envmount deny ${request.id}\`); refused at ${until} UTC otherwise.\r\n`;
}

/** Writes one line to `path` if it is the terminal `ttyNr`, owned by `uid`; false when it was not written. */
export function writeToTerminal(path: string, ttyNr: number, uid: number, line: string): boolean {
  let fd: number;
  try {
    fd = openSync(path, constants.O_WRONLY | constants.O_NOCTTY | constants.O_NONBLOCK);
  } catch {
    return false;
  }
  try {
    const info = fstatSync(fd);
    if (!info.isCharacterDevice() || info.rdev !== ttyNr || info.uid !== uid) return false;
    writeSync(fd, line);
    return true;
  } catch {
    return false;
  } finally {
    closeSync(fd);
  }
}

/** The notice for the daemon of user `uid`: a line on the waiting reader's terminal, when it has one. */
export function terminalNotice(uid: number): WaitNotice {
  return (request, asker) => {
    const tty = asker.reader.tty;
    if (tty === 0) return;
    const line = noticeLine(request);
    terminalPaths(asker.reader.pid, tty).some((path) => writeToTerminal(path, tty, uid, line));
  };
}
