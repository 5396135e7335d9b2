/**
 * The other shapes a mount can serve (`--format`): JSON (an object of strings), shell (`export KEY='...'` lines for
 * `source`), YAML (a mapping of double-quoted strings). Like renderDotenv, values stay in Buffers: each output is
 * sized first, then filled in one allocation the caller wipes. Values that are not UTF-8 cannot be JSON or YAML
 * strings: they are written as they are and reported (`status` names them).
 */
import { isUtf8 } from 'node:buffer';
import { type Rendered, type RenderItem, renderDotenv } from './render.js';

export const FORMATS = ['dotenv', 'json', 'shell', 'yaml'] as const;
export type Format = (typeof FORMATS)[number];

/** What replaces a byte (undefined: the byte itself). */
type Escape = (byte: number) => string | undefined;

const HEX = (byte: number) => byte.toString(16).padStart(2, '0');

/** Escapes inside double quotes (JSON and YAML alike but for how they spell another control byte). */
const doubleQuoted =
  (control: (byte: number) => string): Escape =>
  (b) => {
    if (b === 0x22) return '\\"';
    if (b === 0x5c) return '\\\\';
    if (b === 0x0a) return '\\n';
    if (b === 0x0d) return '\\r';
    if (b === 0x09) return '\\t';
    if (b < 0x20 || b === 0x7f) return control(b);
    return undefined;
  };

const JSON_ESCAPE = doubleQuoted((b) => `\\u00${HEX(b)}`);
const YAML_ESCAPE = doubleQuoted((b) => `\\x${HEX(b)}`);

const SHELL_ESCAPE: Escape = (b) => (b === 0x27 ? "'\\''" : undefined);

function escapedLength(value: Buffer, escapeByte: Escape): number {
  let n = 0;
  for (const byte of value) n += escapeByte(byte)?.length ?? 1;
  return n;
}

function writeEscaped(out: Buffer, at: number, value: Buffer, escapeByte: Escape): number {
  let pos = at;
  for (const byte of value) {
    const replacement = escapeByte(byte);
    if (replacement === undefined) out[pos++] = byte;
    else pos += out.write(replacement, pos, 'latin1');
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
  /** Whether values must be UTF-8. */
  readonly utf8: boolean;
}

const comment = (key: string, problem: string) => `# ${key} is not available: ${problem.replace(/[\r\n]+/g, ' ')}\n`;

const SHAPES: Record<Exclude<Format, 'dotenv'>, Shape> = {
  json: {
    open: '{',
    close: '\n}\n',
    before: (key, first) => `${first ? '' : ','}\n  ${JSON.stringify(key)}: "`,
    after: '"',
    escapeByte: JSON_ESCAPE,
    problem: () => undefined,
    utf8: true,
  },
  shell: {
    open: '',
    close: '',
    before: (key) => `export ${key}='`,
    after: "'\n",
    escapeByte: SHELL_ESCAPE,
    problem: comment,
    utf8: false,
  },
  yaml: {
    open: '',
    close: '',
    before: (key) => `${JSON.stringify(key)}: "`,
    after: '"\n',
    escapeByte: YAML_ESCAPE,
    problem: comment,
    utf8: true,
  },
};

/** Renders resolved items in `format`; `unrepresentable` names the keys the format cannot carry exactly. */
export function renderFormat(format: Format, items: readonly RenderItem[]): Rendered {
  if (format === 'dotenv') return renderDotenv(items);
  const shape = SHAPES[format];
  // Shell names must be identifiers: a key with "." or "-" cannot be exported.
  const usable = (key: string) => format !== 'shell' || /^[A-Za-z_][A-Za-z0-9_]*$/.test(key);
  const unrepresentable = items.flatMap((item) =>
    'value' in item && ((shape.utf8 && !isUtf8(item.value)) || !usable(item.key)) ? [item.key] : [],
  );
  const parts: Array<string | Buffer> = [shape.open];
  let first = true;
  for (const item of items) {
    if (!('value' in item)) {
      const line = shape.problem(item.key, item.problem);
      if (line) parts.push(line);
      continue;
    }
    if (!usable(item.key)) continue;
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
  return { content: out, unrepresentable };
}
