/**
 * What common `.env` readers do to a value as envmount quotes it (measured: docs/compat.md). `status` says it at
 * add time, by variable name, so that nobody finds out from a broken app. Values refused outright (no quoting is
 * safe for them) are named by the renderer instead.
 */
import { dotenvStyle } from './render.js';

const DOLLAR_NAME = /\$[A-Za-z0-9_{]/;

/** A note on the readers that would not read this dotenv value back exactly, or undefined when all do. */
export function readerLimits(value: Buffer): string | undefined {
  const notes: string[] = [];
  const style = dotenvStyle(value);
  if (typeof style === 'object') return undefined;
  if (style === 'double-escaped') {
    notes.push('bash reads its line breaks as `\\n` (--format shell or `envmount run` carry them)');
  }
  if (value.includes(0x0a)) notes.push("direnv's dotenv takes no multi-line value (it loads nothing)");
  if (value.includes(0x0d)) notes.push('node drops its CR and the dotenv package reads it as a line break');
  // Buffer search without turning the value into a string: `$` followed by a name character or `{`, or `\$`.
  for (let at = value.indexOf(0x24); at !== -1; at = value.indexOf(0x24, at + 1)) {
    if (DOLLAR_NAME.test(String.fromCharCode(0x24, value[at + 1] ?? 0)) || value[at - 1] === 0x5c) {
      notes.push('Vite, Next, dotenvx and python-dotenv may expand its `$NAME` (or unescape `\\$`)');
      break;
    }
  }
  if (value.includes(0x5c)) {
    notes.push(
      style === 'double'
        ? "python-dotenv, bash, node and the dotenv package may decode its backslashes (double-quoted for its `'`)"
        : 'python-dotenv decodes its backslashes',
    );
  }
  return notes.length > 0 ? notes.join('; ') : undefined;
}
