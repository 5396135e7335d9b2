/**
 * The other shapes a mount can serve (`--format`): JSON (an object of strings), shell (`export KEY='...'` lines for
 * `source`, `'` written `'\''`: byte-exact and inert in POSIX shells), YAML (a mapping of double-quoted strings
 * with escapes). Like renderDotenv, values stay in Buffers: each output is sized first, then filled in one
 * allocation the caller wipes. What a format cannot carry (not UTF-8 for JSON and YAML; NUL or a name that is not a
 * shell name for shell) is left out, with a comment line where the format has comments, and `status` names it.
 */
import { isUtf8 } from 'node:buffer';
import { problemLine, type Refusal, type Rendered, type RenderItem, refusalLine, renderDotenv } from './render.js';

export const FORMATS = ['dotenv', 'json', 'shell', 'yaml'] as const;
export type Format = (typeof FORMATS)[number];

/** What replaces the bytes at `at`, and how many it replaces (undefined: the byte itself). */
type Escape = (value: Buffer, at: number) => readonly [string, number] | undefined;

const HEX = (byte: number) => byte.toString(16).padStart(2, '0');

/** Escapes inside double quotes (JSON and YAML alike but for how they spell another control byte). */
const doubleQuoted =
  (control: (byte: number) => string): Escape =>
  (value, at) => {
    const b = value[at] ?? 0;
    const one = (text: string) => [text, 1] as const;
    if (b === 0x22) return one('\\"');
    if (b === 0x5c) return one('\\\\');
    if (b === 0x0a) return one('\\n');
    if (b === 0x0d) return one('\\r');
    if (b === 0x09) return one('\\t');
    if (b < 0x20 || b === 0x7f) return one(control(b));
    return undefined;
  };

const JSON_ESCAPE = doubleQuoted((b) => `\\u00${HEX(b)}`);
const YAML_BYTE = doubleQuoted((b) => `\\x${HEX(b)}`);
/**
 * YAML also escapes what its parsers fold or refuse in a quoted scalar (values are UTF-8 by then): NEL, LS and PS
 * (line breaks to YAML 1.1), the other C1 controls (not printable), a BOM.
 */
const YAML_ESCAPE: Escape = (value, at) => {
  const [b, c = 0, d = 0] = [value[at], value[at + 1], value[at + 2]];
  if (b === 0xc2 && c >= 0x80 && c <= 0x9f) return [c === 0x85 ? '\\N' : `\\x${HEX(c)}`, 2];
  if (b === 0xe2 && c === 0x80 && (d === 0xa8 || d === 0xa9)) return [d === 0xa8 ? '\\L' : '\\P', 3];
  if (b === 0xef && c === 0xbb && d === 0xbf) return ['\\uFEFF', 3];
  return YAML_BYTE(value, at);
};

const SHELL_ESCAPE: Escape = (value, at) => (value[at] === 0x27 ? ["'\\''", 1] : undefined);

function escapedLength(value: Buffer, escapeAt: Escape): number {
  let n = 0;
  for (let at = 0; at < value.length; ) {
    const replaced = escapeAt(value, at);
    n += replaced ? replaced[0].length : 1;
    at += replaced ? replaced[1] : 1;
  }
  return n;
}

function writeEscaped(out: Buffer, start: number, value: Buffer, escapeAt: Escape): number {
  let pos = start;
  for (let at = 0; at < value.length; ) {
    const replaced = escapeAt(value, at);
    if (replaced) {
      pos += out.write(replaced[0], pos, 'latin1');
      at += replaced[1];
    } else {
      out[pos++] = value[at++] ?? 0;
    }
  }
  return pos;
}

interface Shape {
  readonly open: string;
  readonly close: string;
  /** Text before and after the escaped value of an item (`first`: no separator before it). */
  readonly before: (key: string, first: boolean) => string;
  readonly after: string;
  readonly escapeByte: Escape;
  /** A line saying why an item has no value, or undefined when the format has no comments (JSON). */
  readonly problem: (key: string, problem: string) => string | undefined;
  /** Why this format cannot carry an item safely, or undefined when it can. */
  readonly refuse: (key: string, value: Buffer) => string | undefined;
}

const NOT_UTF8 = 'it is not UTF-8 text, which a JSON or YAML string cannot carry';
const utf8Only = (_key: string, value: Buffer) => (isUtf8(value) ? undefined : NOT_UTF8);

const SHAPES: Record<Exclude<Format, 'dotenv'>, Shape> = {
  json: {
    open: '{',
    close: '\n}\n',
    before: (key, first) => `${first ? '' : ','}\n  ${JSON.stringify(key)}: "`,
    after: '"',
    escapeByte: JSON_ESCAPE,
    problem: () => undefined,
    refuse: utf8Only,
  },
  shell: {
    open: '',
    close: '',
    before: (key) => `export ${key}='`,
    after: "'\n",
    escapeByte: SHELL_ESCAPE,
    problem: problemLine,
    // Shell names must be identifiers: a key with "." or "-" cannot be exported.
    refuse: (key, value) =>
      !/^[A-Za-z_][A-Za-z0-9_]*$/.test(key)
        ? 'its name is not a shell variable name'
        : value.includes(0)
          ? 'it holds a NUL byte, which no environment variable can carry'
          : undefined,
  },
  yaml: {
    open: '',
    close: '',
    before: (key) => `${JSON.stringify(key)}: "`,
    after: '"\n',
    escapeByte: YAML_ESCAPE,
    problem: problemLine,
    refuse: utf8Only,
  },
};

/** Renders resolved items in `format`; `refused` names the variables left out, and why. */
export function renderFormat(format: Format, items: readonly RenderItem[]): Rendered {
  if (format === 'dotenv') return renderDotenv(items);
  const shape = SHAPES[format];
  const refused: Refusal[] = [];
  const parts: Array<string | Buffer> = [shape.open];
  let first = true;
  for (const item of items) {
    if (!('value' in item)) {
      const line = shape.problem(item.key, item.problem);
      if (line) parts.push(line);
      continue;
    }
    const reason = shape.refuse(item.key, item.value);
    if (reason !== undefined) {
      refused.push({ key: item.key, reason });
      if (format !== 'json') parts.push(refusalLine(item.key, format, reason));
      continue;
    }
    parts.push(shape.before(item.key, first), item.value, shape.after);
    first = false;
  }
  parts.push(first && format === 'json' ? '}\n' : shape.close);
  let size = 0;
  for (const part of parts)
    size += typeof part === 'string' ? Buffer.byteLength(part) : escapedLength(part, shape.escapeByte);
  const out = Buffer.alloc(size);
  let at = 0;
  for (const part of parts)
    at = typeof part === 'string' ? at + out.write(part, at) : writeEscaped(out, at, part, shape.escapeByte);
  return { content: out, refused };
}
