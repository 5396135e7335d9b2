/**
 * Renders resolved variables as dotenv bytes. Values are not trusted input (shared 1Password items, agents): no
 * value may end its quoting, add a variable or run code in any reader of docs/compat.md. Values stay in Buffers:
 * the output is built in one zero-filled allocation the caller wipes after use.
 *
 * Quoting, chosen per value from what those readers do (test/security/value-injection.test.ts proves it):
 * - single quotes, raw: unless the value holds `'`. Every reader reads them literally (Vite, Next, dotenvx and
 *   python-dotenv still expand `$NAME`; python-dotenv decodes `\\`), none runs anything in them;
 * - double quotes, raw: when the value holds `'` but no `"`, `$` or backtick (bash and dotenvx run `$(...)`
 *   and backticks in double quotes, bash evaluates `$((...))`);
 * - double quotes, line breaks written `\n`: for a multi-line value that the two above cannot carry safely;
 * - nothing: the line `# NAME cannot be served safely as dotenv: REASON` (fail closed; `status` names it).
 *
 * Besides the quote itself, what ends a quoted value early: a final backslash (the dotenv package and
 * python-dotenv take `\'` and `\"` for an escaped quote) and, for direnv, which reads line by line, a line break.
 * A raw multi-line value is served only if one of its continuation lines is no `KEY=` line (direnv then refuses
 * the whole file rather than load a line of the value as a variable). NUL cannot be in an environment variable.
 */
export type RenderItem =
  | { readonly key: string; readonly value: Buffer }
  | { readonly key: string; readonly problem: string };

/** A variable not served: its name and why (never its value). */
export interface Refusal {
  readonly key: string;
  readonly reason: string;
}

export interface Rendered {
  readonly content: Buffer;
  /** Variables left out because the format cannot carry their value safely for its readers. */
  readonly refused: readonly Refusal[];
}

const SINGLE = 0x27;
const BACKTICK = 0x60;
const DOUBLE = 0x22;
const BACKSLASH = 0x5c;
const DOLLAR = 0x24;
const CR = 0x0d;
const LF = 0x0a;

/** The names readers of every format take (the template's KEY; 1Password Environment names are not checked). */
export const KEY_NAME = /^[A-Za-z_][A-Za-z0-9_.-]*$/;

export type Style = 'single' | 'double' | 'double-escaped' | { readonly refuse: string };

/** Whitespace as direnv may see it; a byte of a non-ASCII character counts too (that only finds fewer stops). */
const space = (byte: number | undefined) =>
  byte !== undefined && (byte === 0x20 || (byte >= 0x09 && byte <= 0x0d) || byte >= 0x80);
const word = (byte: number | undefined) =>
  byte !== undefined &&
  ((byte >= 0x30 && byte <= 0x39) ||
    (byte >= 0x41 && byte <= 0x5a) ||
    (byte >= 0x61 && byte <= 0x7a) ||
    byte === 0x5f ||
    byte === 0x2e);

/**
 * Whether a line of a value served raw makes direnv (line by line: blank, `# comment` or `KEY=...`, else it
 * refuses the whole file) reject the file. Wider than direnv's pattern: whatever could be a binding counts as one.
 */
function stopsDirenv(line: Buffer, last: boolean): boolean {
  let at = 0;
  while (space(line[at])) at++;
  // The last line ends in the closing quote: blank, it is that quote alone.
  if (at === line.length) return last;
  if (line[at] === 0x23 /* # */) return false;
  for (let words = 0; words < 2; words++) {
    const start = at;
    while (word(line[at])) at++;
    if (at === start) return true;
    const end = at;
    while (space(line[at])) at++;
    if (line[at] === 0x3d /* = */ || (line[end] === 0x3a /* : */ && space(line[end + 1]))) return false;
    // `export KEY=`: one more word after `export` and spaces.
    if (words > 0 || at === end || line.subarray(start, end).toString('latin1') !== 'export') return true;
  }
  return true;
}

/** The next line break direnv sees at or after `from` (it splits lines at CR as well as LF), or -1. */
function nextBreak(value: Buffer, from: number): number {
  for (let at = from; at < value.length; at++) if (value[at] === LF || value[at] === CR) return at;
  return -1;
}

/**
 * Whether a value written raw in quotes gives direnv a line it refuses (or has no line break). The closing quote
 * after the last line changes nothing but a blank line (then a stop): a quote is neither a name nor `=`. Lines end
 * at LF and at CR: a CR alone is a line break to direnv (`a\rNODE_OPTIONS=...` would be a binding).
 */
function rawLinesSafe(value: Buffer): boolean {
  let start = nextBreak(value, 0);
  if (start === -1) return true;
  while (start !== -1) {
    const next = nextBreak(value, start + 1);
    if (stopsDirenv(value.subarray(start + 1, next === -1 ? value.length : next), next === -1)) return true;
    start = next;
  }
  return false;
}

const REASONS = {
  nul: 'it holds a NUL byte, which no environment variable can carry',
  backslash: 'it ends in a backslash, which the dotenv package and python-dotenv read as an escaped closing quote',
  quotes: 'it holds \' with ", $ or a backtick: no quoting keeps it one inert value for both bash and node',
  lines:
    'it has lines direnv would load as variables, and holds \' with ", $, a backtick, a backslash or a CR (no escaped form)',
} as const;

export function dotenvStyle(value: Buffer): Style {
  if (value.includes(0)) return { refuse: REASONS.nul };
  if (value.at(-1) === BACKSLASH) return { refuse: REASONS.backslash };
  const linesSafe = rawLinesSafe(value);
  const hasSingle = value.includes(SINGLE);
  if (!hasSingle && linesSafe) return 'single';
  const doubleOk = !value.includes(DOUBLE) && !value.includes(DOLLAR) && !value.includes(BACKTICK);
  if (doubleOk && linesSafe) return 'double';
  if (doubleOk && !value.includes(BACKSLASH) && !value.includes(CR)) return 'double-escaped';
  return { refuse: hasSingle && !doubleOk ? REASONS.quotes : REASONS.lines };
}

/** Comment text on one line: every line terminator any reader knows (JS regexes include U+2028/9) becomes a space. */
export function oneLine(text: string): string {
  return text.replace(/[\r\n\u0085\u2028\u2029]+/g, ' ');
}

/** The key as a comment may show it: a name that is not KEY-shaped is not repeated into the file. */
export function shownKey(key: string): string {
  return KEY_NAME.test(key) ? key : '(a variable whose name is not a valid KEY)';
}

export function refusalLine(key: string, format: string, reason: string): string {
  return `# ${shownKey(key)} cannot be served safely as ${format}: ${reason}\n`;
}

export function problemLine(key: string, problem: string): string {
  return `# ${shownKey(key)} is not available: ${oneLine(problem)}\n`;
}

function countByte(value: Buffer, byte: number): number {
  let n = 0;
  for (let i = value.indexOf(byte); i !== -1; i = value.indexOf(byte, i + 1)) n++;
  return n;
}

export function renderDotenv(items: readonly RenderItem[]): Rendered {
  const refused: Refusal[] = [];
  /** Per item: the quoting of its value, or the comment line written instead. */
  const plan: Array<{ style: Exclude<Style, { refuse: string }> } | { line: string }> = [];
  let size = 0;
  for (const item of items) {
    if ('problem' in item) {
      plan.push({ line: problemLine(item.key, item.problem) });
    } else {
      const style = KEY_NAME.test(item.key) ? dotenvStyle(item.value) : { refuse: 'its name is not a valid KEY' };
      if (typeof style === 'object') {
        refused.push({ key: item.key, reason: style.refuse });
        plan.push({ line: refusalLine(item.key, 'dotenv', style.refuse) });
      } else {
        plan.push({ style });
        const extra = style === 'double-escaped' ? countByte(item.value, LF) : 0;
        size += Buffer.byteLength(item.key) + 4 + item.value.length + extra;
        continue;
      }
    }
    size += Buffer.byteLength((plan.at(-1) as { line: string }).line);
  }
  const out = Buffer.alloc(size);
  let at = 0;
  items.forEach((item, index) => {
    const step = plan[index];
    if (!step || 'line' in step || !('value' in item)) {
      at += out.write(step && 'line' in step ? step.line : '', at);
      return;
    }
    const quote = step.style === 'single' ? SINGLE : DOUBLE;
    at += out.write(item.key, at);
    out[at++] = 0x3d; // =
    out[at++] = quote;
    if (step.style === 'double-escaped') {
      for (const byte of item.value) {
        if (byte === LF) {
          out[at++] = BACKSLASH;
          out[at++] = 0x6e; // n
        } else {
          out[at++] = byte;
        }
      }
    } else {
      at += item.value.copy(out, at);
    }
    out[at++] = quote;
    out[at++] = LF;
  });
  return { content: out, refused };
}
