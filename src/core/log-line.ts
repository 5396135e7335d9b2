/**
 * envmountd's log records as a person reads them on a terminal: `14:02:03 envmountd started (socket /run/...,
 * mounts 3)`, warnings and errors marked. The same records stay JSON for the journal and `--log-format json`.
 */

const LEVELS: Readonly<Record<number, string>> = { 40: 'warning: ', 50: 'error: ', 60: 'error: ' };
/** pino's own fields, and those that say nothing to a person. */
const HIDDEN = new Set(['level', 'time', 'pid', 'hostname', 'name', 'msg', 'component', 'v']);

function detail(value: unknown): string {
  if (value && typeof value === 'object') {
    const message = (value as { message?: unknown }).message;
    if (typeof message === 'string') return message;
    return JSON.stringify(value);
  }
  return String(value);
}

function clock(time: unknown): string {
  const date = typeof time === 'number' ? new Date(time) : new Date();
  return [date.getHours(), date.getMinutes(), date.getSeconds()].map((n) => String(n).padStart(2, '0')).join(':');
}

/** One pino record (parsed JSON) as one line of text, newline included. */
export function humanLogLine(record: Readonly<Record<string, unknown>>): string {
  const level = typeof record.level === 'number' ? (LEVELS[record.level] ?? '') : '';
  const details = Object.entries(record)
    .filter(([key, value]) => !HIDDEN.has(key) && value !== undefined)
    .map(([key, value]) => `${key} ${detail(value)}`);
  const msg = typeof record.msg === 'string' ? record.msg : '';
  return `${clock(record.time)} ${level}${msg}${details.length > 0 ? ` (${details.join(', ')})` : ''}\n`;
}
