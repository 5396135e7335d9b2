/**
 * Text a process chose (its command line, its paths), made safe to show a person: every character that moves the
 * cursor, ends a line, changes the terminal, reorders text or mimics another becomes a visible escape (`\n`, `\x1b`,
 * `\u202e`), a backslash becomes `\\` so that an escape cannot be faked, and long text ends in a marker saying how
 * much is left out. What comes out is one line of printable ASCII; markup is the caller's concern.
 */

const NAMED: Readonly<Record<string, string>> = { '\n': '\\n', '\r': '\\r', '\t': '\\t', '\\': '\\\\' };

/**
 * Anything but printable ASCII: controls (C0, DEL, C1), invisible and reordering characters (bidi overrides,
 * zero-width spaces), and letters that look like ASCII ones (a Cyrillic "а" in "/usr/bin/cаt"). Escaped, a name
 * reads the same in every font and locale (a dialog started under the C locale takes only ASCII arguments).
 */
function isHidden(ch: string): boolean {
  const code = ch.codePointAt(0) ?? 0;
  return code < 0x20 || code > 0x7e;
}

function hasHidden(text: string): boolean {
  for (const ch of text) if (isHidden(ch)) return true;
  return false;
}

function escapeChar(ch: string): string {
  const named = NAMED[ch];
  if (named) return named;
  const code = ch.codePointAt(0) ?? 0;
  if (code < 0x80) return `\\x${code.toString(16).padStart(2, '0')}`;
  return code > 0xffff ? `\\U${code.toString(16).padStart(8, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
}

/** One visible line: hidden characters and backslashes escaped. */
export function visible(text: string): string {
  let out = '';
  for (const ch of text) out += ch === '\\' || isHidden(ch) ? escapeChar(ch) : ch;
  return out;
}

/** Cuts `text` to `max` characters (code points), ending in `... (+N more characters)` when something was cut. */
export function truncate(text: string, max: number): string {
  const chars = [...text];
  if (chars.length <= max) return text;
  return `${chars.slice(0, max).join('')}... (+${chars.length - max} more characters)`;
}

const PLAIN_ARG = /^[A-Za-z0-9_@%+=:,./-]+$/;

/**
 * One argument as a shell would need it, escaped: bare when plain, in single quotes when it holds spaces or shell
 * characters, in `$'…'` (ANSI-C quoting) when it holds hidden characters, so that what is shown reads back as the
 * same argument.
 */
export function quoteArg(arg: string): string {
  if (arg !== '' && PLAIN_ARG.test(arg)) return arg;
  if (!hasHidden(arg)) return `'${arg.replaceAll("'", `'\\''`)}'`;
  return `$'${visible(arg).replaceAll("'", "\\'")}'`;
}

/** A command line, each argument quoted and escaped, cut to `max` characters with a marker. */
export function commandLine(argv: readonly string[], max: number): string {
  return truncate(argv.map(quoteArg).join(' '), max);
}
