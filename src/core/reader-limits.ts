/**
 * What common `.env` readers do to a value as envmount quotes it (measured: docs/compat.md). `status` says it at
 * add time, by variable name, so that nobody finds out from a broken app.
 */
import { quoteStyle } from './render.js';

const DOLLAR_NAME = /\$[A-Za-z0-9_{]/;

/** A note on the readers that would not read this dotenv value back exactly, or undefined when all do. */
export function readerLimits(value: Buffer): string | undefined {
  const notes: string[] = [];
  const style = quoteStyle(value);
  if (style === 'backtick' || style === 'double') {
    notes.push('bash, direnv and python-dotenv cannot read it as quoted (--format shell or `envmount run` can)');
  } else if (value.includes(0x0a)) {
    notes.push("direnv's dotenv takes no multi-line value");
  }
  // Buffer search without turning the value into a string: `$` followed by a name character or `{`, or `\$`.
  for (let at = value.indexOf(0x24); at !== -1; at = value.indexOf(0x24, at + 1)) {
    if (DOLLAR_NAME.test(String.fromCharCode(0x24, value[at + 1] ?? 0)) || value[at - 1] === 0x5c) {
      notes.push('Vite, Next, dotenvx and python-dotenv may expand its `$NAME` (or unescape `\\$`)');
      break;
    }
  }
  if (value.includes(0x5c)) notes.push('python-dotenv decodes its backslashes');
  if (value.at(-1) === 0x5c)
    notes.push('it ends in a backslash, which the dotenv package (and Vite, Next) may misread');
  return notes.length > 0 ? notes.join('; ') : undefined;
}
